use std::env;
use std::fs::File;
use std::io::{BufReader, BufWriter};
use std::path::Path;

#[path = "src/metadata/loader.rs"]
mod loader;

#[path = "src/error.rs"]
mod error;

fn main() {
    let pnm_path = "assets/PhoneNumberMetadata.xml";
    let mut metadata = loader::load(BufReader::new(
        File::open(pnm_path).expect("could not open metadata file"),
    ))
    .expect("failed to load metadata");
    // passwordless: the patterns are compiled with `ignore_whitespace(true)`
    // (src/metadata/database.rs), so the XML's indentation inside them means nothing; stored as
    // is, it was 0.3 MB of every binary that parses phone numbers.
    for meta in &mut metadata {
        compact_patterns(meta);
    }
    println!("cargo:rerun-if-changed={pnm_path}");

    let mut out = BufWriter::new(
        File::create(Path::new(&env::var("OUT_DIR").unwrap()).join("database.bin"))
            .expect("could not create database file"),
    );

    postcard::to_io(&metadata, &mut out).expect("failed to serialize database");
}

/// Removes the whitespace from every field `database.rs` compiles as a regex in verbose mode,
/// where it is insignificant. A pattern with a `#` (a comment in verbose mode, ended by a
/// newline) or an escaped whitespace character is kept as it is.
fn compact_patterns(meta: &mut loader::Metadata) {
    fn compact(pattern: &mut String) {
        if !pattern.contains('#') && !has_escaped_whitespace(pattern) {
            pattern.retain(|c| !c.is_ascii_whitespace());
        }
    }
    fn has_escaped_whitespace(pattern: &str) -> bool {
        let bytes = pattern.as_bytes();
        bytes
            .windows(2)
            .any(|pair| pair[0] == b'\\' && pair[1].is_ascii_whitespace())
    }
    let descriptors = [
        &mut meta.general,
        &mut meta.fixed_line,
        &mut meta.mobile,
        &mut meta.toll_free,
        &mut meta.premium_rate,
        &mut meta.shared_cost,
        &mut meta.personal_number,
        &mut meta.voip,
        &mut meta.pager,
        &mut meta.uan,
        &mut meta.emergency,
        &mut meta.voicemail,
        &mut meta.short_code,
        &mut meta.standard_rate,
        &mut meta.carrier,
        &mut meta.no_international,
    ];
    for descriptor in descriptors.into_iter().flatten() {
        descriptor.national_number.iter_mut().for_each(compact);
    }
    meta.international_prefix.iter_mut().for_each(compact);
    meta.national_prefix_for_parsing.iter_mut().for_each(compact);
    meta.leading_digits.iter_mut().for_each(compact);
    for format in meta.formats.iter_mut().chain(meta.international_formats.iter_mut()) {
        format.pattern.iter_mut().for_each(compact);
        format.leading_digits.iter_mut().for_each(compact);
    }
}
