//! Compiles packsim's own Mesos .proto files with protox (no system `protoc`) and generates the
//! prost types; the descriptor set is kept for the JSON dialect (prost-reflect).

use std::path::PathBuf;

fn main() {
    let root = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it")).join("proto");
    let files = ["mesos/v1/mesos.proto", "mesos/v1/scheduler/scheduler.proto"];
    for f in &files {
        println!("cargo:rerun-if-changed={}", root.join(f).display());
    }
    let fds = protox::compile(files, [&root]).unwrap_or_else(|e| panic!("compiling the .proto files: {e}"));
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets it"));
    std::fs::write(out.join("mesos.fds"), prost::Message::encode_to_vec(&fds)).expect("write descriptor set");
    prost_build::Config::new()
        .btree_map(["."])
        .enable_type_names()
        .compile_fds(fds)
        .unwrap_or_else(|e| panic!("generating Rust from the .proto files: {e}"));
}
