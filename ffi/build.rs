//! Gives the shared library its soname, `libtradewire.so.<major>` (Linux), so that programs
//! record that name and keep working across compatible updates. `make install` lays out
//! `libtradewire.so.<major>.<minor>.<patch>` with the `.so.<major>` and `.so` links; in the
//! build tree, `make lib` adds the `.so.<major>` link next to `libtradewire.so`.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        let major = std::env::var("CARGO_PKG_VERSION_MAJOR").unwrap_or_else(|_| "0".into());
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libtradewire.so.{major}");
    }
}
