//! Compiles the Slint UI (`ui/app.slint`) with the bundled translations of `ui/lang/`.

fn main() {
    // Read at run time: a build script compiled once may run for another checkout.
    let root =
        std::path::PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let config = slint_build::CompilerConfiguration::new()
        .with_bundled_translations(root.join("ui/lang"))
        .with_style("fluent".into());
    slint_build::compile_with_config(root.join("ui/app.slint"), config)
        .expect("the Slint UI compiles");
    println!("cargo:rerun-if-changed=ui");
}
