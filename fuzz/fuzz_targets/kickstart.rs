//! Arbitrary kickstart files through the parser and validator: an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = passwordless::kickstart::parse(text);
    }
});
