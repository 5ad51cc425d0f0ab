//! Compiles the Slint UI (`ui/app.slint`) with the bundled translations of `ui/lang/`.

fn main() {
    let config = slint_build::CompilerConfiguration::new()
        .with_bundled_translations(concat!(env!("CARGO_MANIFEST_DIR"), "/ui/lang"))
        .with_style("fluent".into());
    slint_build::compile_with_config("ui/app.slint", config).expect("the Slint UI compiles");
    println!("cargo:rerun-if-changed=ui");
}
