//! Which browser and OS began a hosted login, as the approval page on another device names it
//! ("Chrome on Linux"): a coarse family parsed from the `User-Agent` once, at the login id post.
//! Only the family is kept, never the header itself (attacker-chosen text, and a fingerprint).

use serde::{Deserialize, Serialize};

/// Only this much of a `User-Agent` is read: every family below names itself early.
pub const USER_AGENT_READ: usize = 512;

#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub enum Browser {
    Edge,
    Opera,
    SamsungInternet,
    Firefox,
    Chrome,
    Safari,
    /// Anything else, and a value this version does not know.
    #[default]
    #[serde(other)]
    Unknown,
}

#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub enum Os {
    Windows,
    MacOs,
    IPhone,
    IPad,
    Android,
    ChromeOs,
    Linux,
    #[default]
    #[serde(other)]
    Unknown,
}

#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Device {
    #[serde(default)]
    pub browser: Browser,
    #[serde(default)]
    pub os: Os,
}

impl Device {
    /// The families a `User-Agent` names (its first [`USER_AGENT_READ`] bytes), checked from the
    /// most specific: Edge, Opera and Samsung Internet also say `Chrome`, Chrome says `Safari`,
    /// an iPhone says `Mac OS X`, Android says `Linux`.
    pub fn from_user_agent(user_agent: Option<&str>) -> Self {
        let Some(agent) = user_agent else {
            return Self::default();
        };
        let mut end = agent.len().min(USER_AGENT_READ);
        while !agent.is_char_boundary(end) {
            end -= 1;
        }
        let agent = &agent[..end];
        let has = |needles: &[&str]| needles.iter().any(|n| agent.contains(n));
        let browser = if has(&["Edg/", "Edge/", "EdgA/", "EdgiOS/"]) {
            Browser::Edge
        } else if has(&["OPR/", "Opera"]) {
            Browser::Opera
        } else if has(&["SamsungBrowser/"]) {
            Browser::SamsungInternet
        } else if has(&["Firefox/", "FxiOS/"]) {
            Browser::Firefox
        } else if has(&["Chrome/", "CriOS/", "Chromium/"]) {
            Browser::Chrome
        } else if has(&["Safari/"]) && has(&["Version/"]) {
            Browser::Safari
        } else {
            Browser::Unknown
        };
        let os = if has(&["iPhone"]) {
            Os::IPhone
        } else if has(&["iPad"]) {
            Os::IPad
        } else if has(&["Android"]) {
            Os::Android
        } else if has(&["CrOS"]) {
            Os::ChromeOs
        } else if has(&["Windows"]) {
            Os::Windows
        } else if has(&["Macintosh", "Mac OS X"]) {
            Os::MacOs
        } else if has(&["Linux"]) {
            Os::Linux
        } else {
            Os::Unknown
        };
        Self { browser, os }
    }
}

impl Browser {
    /// Its name, the same in every language; `None` when unknown.
    pub fn name(self) -> Option<&'static str> {
        Some(match self {
            Self::Edge => "Edge",
            Self::Opera => "Opera",
            Self::SamsungInternet => "Samsung Internet",
            Self::Firefox => "Firefox",
            Self::Chrome => "Chrome",
            Self::Safari => "Safari",
            Self::Unknown => return None,
        })
    }
}

impl Os {
    pub fn name(self) -> Option<&'static str> {
        Some(match self {
            Self::Windows => "Windows",
            Self::MacOs => "macOS",
            Self::IPhone => "iPhone",
            Self::IPad => "iPad",
            Self::Android => "Android",
            Self::ChromeOs => "ChromeOS",
            Self::Linux => "Linux",
            Self::Unknown => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(agent: &str) -> (Browser, Os) {
        let device = Device::from_user_agent(Some(agent));
        (device.browser, device.os)
    }

    #[test]
    fn common_browsers_and_systems_are_named_by_family() {
        let cases = [
            ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36", Browser::Chrome, Os::Linux),
            ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1", Browser::Safari, Os::IPhone),
            ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0", Browser::Edge, Os::Windows),
            ("Mozilla/5.0 (Macintosh; Intel Mac OS X 14.5; rv:127.0) Gecko/20100101 Firefox/127.0", Browser::Firefox, Os::MacOs),
            ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36", Browser::Chrome, Os::Android),
            ("Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/126.0 Mobile/15E148 Safari/604.1", Browser::Chrome, Os::IPad),
            ("Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/25.0 Chrome/121.0.0.0 Mobile Safari/537.36", Browser::SamsungInternet, Os::Android),
            ("curl/8.5.0", Browser::Unknown, Os::Unknown),
        ];
        for (agent, browser, os) in cases {
            assert_eq!(parsed(agent), (browser, os), "{agent}");
        }
        assert_eq!(Device::from_user_agent(None), Device::default());
    }

    #[test]
    fn only_the_start_of_a_long_agent_is_read_and_multibyte_text_does_not_panic() {
        let late = format!("{}Chrome/1 (Linux)", "é".repeat(USER_AGENT_READ));
        assert_eq!(parsed(&late), (Browser::Unknown, Os::Unknown));
    }

    #[test]
    fn a_family_this_version_does_not_know_reads_as_unknown() {
        let device: Device = serde_json::from_str(r#"{"browser":"Netscape","os":"BeOS"}"#).unwrap();
        assert_eq!(device, Device::default());
        let stored = serde_json::to_string(&Device::from_user_agent(Some(
            "Mozilla/5.0 (X11; Linux x86_64) Chrome/126.0.6478.126",
        )))
        .unwrap();
        assert_eq!(stored, r#"{"browser":"Chrome","os":"Linux"}"#);
    }
}
