//! The SES identities the stack may send as (template.yaml's `SenderIdentities`, the admin CLI's
//! `--sender-identities` or `SENDER_IDENTITIES`), and the rule that every sender of a kickstart
//! belongs to one of them: a tenant whose mail IAM would refuse is refused when the file is
//! checked or loaded, not when a user waits for a code.

use std::fmt;

use super::{Kickstart, KickstartError};

/// A non-empty list of SES identities, each a domain (`hooli.xyz`, every address at it) or an
/// address (`login@hooli.xyz`, that address only), lowercased as SES compares them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SenderIdentities(Vec<String>);

impl SenderIdentities {
    /// Parses a comma-separated list, as CloudFormation passes a `CommaDelimitedList`.
    pub fn parse(list: &str) -> Result<Self, String> {
        let mut identities = Vec::new();
        for item in list.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            if item.contains(['*', '?', '/']) || item.contains(char::is_whitespace) {
                return Err(format!(
                    "{item:?} is not an SES identity (an address or a domain, without wildcards)"
                ));
            }
            let (local, domain) = item.rsplit_once('@').unwrap_or(("", item));
            if (item.contains('@') && local.is_empty()) || !domain.contains('.') {
                return Err(format!(
                    "{item:?} is not an SES identity (an address or a domain such as example.com)"
                ));
            }
            identities.push(item.to_ascii_lowercase());
        }
        if identities.is_empty() {
            return Err("the list of sender identities is empty".to_owned());
        }
        identities.sort();
        identities.dedup();
        Ok(Self(identities))
    }

    /// Whether SES would send `address` as one of these identities: the address itself, or its
    /// domain (not a parent domain: a subdomain is an identity of its own).
    pub fn covers(&self, address: &str) -> bool {
        let address = address.to_ascii_lowercase();
        let domain = address.rsplit('@').next().unwrap_or_default();
        self.0.iter().any(|i| *i == address || i == domain)
    }

    /// Every sender of the file (each tenant's `defaultFromEmail`, each email template's
    /// `fromEmail`) belongs to one of these identities; the first that does not is refused,
    /// naming the tenant or template and the identity it lacks.
    pub fn check(&self, kickstart: &Kickstart) -> Result<(), KickstartError> {
        let tenants = kickstart.tenants.iter().enumerate().filter_map(|(i, t)| {
            let sender = t.email_configuration.default_from_email.as_deref()?;
            let object = format!("tenants[{i}] (tenant {:?}, {})", t.name, t.id);
            Some((object, "emailConfiguration.defaultFromEmail", sender))
        });
        let templates = kickstart
            .email_templates
            .iter()
            .enumerate()
            .filter_map(|(i, t)| {
                let sender = t.from_email.as_deref()?;
                let object = format!("emailTemplates[{i}] (template {:?}, {})", t.name, t.id);
                Some((object, "fromEmail", sender))
            });
        for (object, field, sender) in tenants.chain(templates) {
            if !self.covers(sender) {
                let missing = sender.rsplit('@').next().unwrap_or_default();
                return Err(KickstartError::new(
                    &object,
                    field,
                    format!(
                        "{sender} is sent as the SES identity {}, which is not among the \
                         stack's sender identities ({self}): add it to SenderIdentities (and \
                         SENDER_IDENTITIES) and verify it in SES",
                        missing.to_ascii_lowercase()
                    ),
                ));
            }
        }
        Ok(())
    }
}

impl fmt::Display for SenderIdentities {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const THREE_SENDERS: &str =
        include_str!("../../../tests/fixtures/kickstart.three-senders.json");

    fn identities(list: &str) -> SenderIdentities {
        SenderIdentities::parse(list).unwrap()
    }

    #[test]
    fn a_domain_covers_every_address_at_it_and_an_address_only_itself() {
        let list = identities(" Hooli.xyz , login@raviga.vc");
        assert!(list.covers("login@hooli.xyz"));
        assert!(list.covers("Gavin@HOOLI.xyz"));
        assert!(list.covers("LOGIN@raviga.vc"));
        assert!(!list.covers("hello@raviga.vc"));
        assert!(!list.covers("x@mail.hooli.xyz"));
        assert!(!list.covers("x@nothooli.xyz"));
    }

    #[test]
    fn a_list_with_a_wildcard_or_nothing_in_it_is_refused() {
        for bad in [
            "",
            " , ",
            "*",
            "*.hooli.xyz",
            "hooli",
            "@hooli.xyz",
            "a b.com",
        ] {
            assert!(SenderIdentities::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_kickstart_whose_senders_are_all_listed_passes() {
        let kickstart = super::super::parse(THREE_SENDERS).unwrap();
        let list = identities("hooli.xyz,raviga.vc,login@bachmanity.com");
        assert_eq!(list.check(&kickstart), Ok(()));
    }

    #[test]
    fn a_tenant_whose_sender_is_not_listed_is_refused_naming_the_tenant_and_the_identity() {
        let kickstart = super::super::parse(THREE_SENDERS).unwrap();
        let error = identities("hooli.xyz,bachmanity.com")
            .check(&kickstart)
            .unwrap_err();
        assert_eq!(error.field, "emailConfiguration.defaultFromEmail");
        assert!(error.object.contains("\"Raviga\""), "{error}");
        assert!(
            error.message.contains("the SES identity raviga.vc,"),
            "{error}"
        );
    }

    #[test]
    fn a_template_whose_sender_is_not_listed_is_refused_naming_the_template() {
        let mut file: serde_json::Value = serde_json::from_str(THREE_SENDERS).unwrap();
        file["emailTemplates"] = serde_json::json!([{
            "id": "4e3c2b1a-0000-4000-8000-000000000001",
            "name": "Endframe login",
            "fromEmail": "login@endframe.io",
            "defaultSubject": "Log in",
            "defaultHtmlTemplate": "<p>${code}</p>",
            "defaultTextTemplate": "${code}"
        }]);
        let kickstart = super::super::parse(&file.to_string()).unwrap();
        let error = identities("hooli.xyz,raviga.vc,bachmanity.com")
            .check(&kickstart)
            .unwrap_err();
        assert_eq!(error.field, "fromEmail");
        assert!(error.object.contains("\"Endframe login\""), "{error}");
        assert!(
            error.message.contains("the SES identity endframe.io,"),
            "{error}"
        );
    }
}
