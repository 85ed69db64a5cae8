//! Link settings for the `switchyard` binary only (libraries and test binaries are untouched).

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let linux_gnu = std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux")
        && std::env::var("CARGO_CFG_TARGET_ENV").as_deref() == Ok("gnu");
    if linux_gnu {
        // Packed relative relocations (DT_RELR). As a position-independent executable the
        // binary carries about 80,000 relative relocations; as RELA entries they take 2 MB
        // that the loader reads in full at every start and that stay resident, about a tenth
        // of the idle RSS. Packed they take a few kilobytes. GNU ld (2.38 and later) and lld
        // (15 and later) pack them only when the C library can apply them (glibc 2.36 and
        // later) and keep the old format otherwise, so the binary runs wherever it did.
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
}
