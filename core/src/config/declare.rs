//! The macro that turns the one declaration of the configuration fields (`fields.rs`) into
//! everything derived from it: the `Config` struct, its builder methods, the JSON reader's
//! dispatch, [`FIELDS`](super::FIELDS), the effective values (given, else the preset's
//! default) and the rows of the README's field table.
//!
//! An entry of the declaration:
//!
//! ```text
//! /// Documentation: the builder method's, and the first paragraph is the README's.
//! "json_key" => rust_name: Type {
//!     set: value | into | none | { pub fn name(mut self, ...) -> Self { ... } },
//!     read: get("expected ...") | or_null("expected ...") | call(reader_method, "value")
//!         | with(function, "value") | or_null_with(function, "value"),
//!     default: value(p => expr) | maybe(p => expr) | shown(p => expr) | text("..."),
//! }
//! ```
//!
//! `=> rust_name: Type` is left out for a key that has no field of its own (the options of
//! document 004). `set: value` is `fn name(self, Type)`, `into` is `fn name(self, impl
//! Into<String>)`. `get` reads the JSON value with serde; `or_null` too, but `null` means
//! `None` (not "the default"); `call` uses a `Reader` method returning `Option<Type>`;
//! `with` calls `function(reader, config, key, value)`; `or_null_with` too, `null` included.
//! `value` and `maybe` give the field an effective value (`Effective::rust_name`), `maybe`
//! for a default only some presets have; `shown` and `text` only document the default (resolve.rs applies it).

/// Generates the builder setter of one field (see the module documentation).
macro_rules! config_setter {
    (none; [$($doc:literal)*]; $($rest:tt)*) => {};
    (value; [$($doc:literal)*]; $name:ident: $ty:ty) => {
        $(#[doc = $doc])*
        pub fn $name(mut self, value: $ty) -> Self {
            self.$name = Some(value);
            self
        }
    };
    (into; [$($doc:literal)*]; $name:ident: $ty:ty) => {
        $(#[doc = $doc])*
        pub fn $name(mut self, value: impl Into<String>) -> Self {
            self.$name = Some(value.into());
            self
        }
    };
    ({ $($method:tt)* }; [$($doc:literal)*]; $($rest:tt)*) => {
        $(#[doc = $doc])*
        $($method)*
    };
}

/// Generates the JSON reader's statement for one field.
macro_rules! config_read {
    ($r:ident, $c:ident, $key:ident, $v:ident; get($expected:literal); $name:ident) => {
        $c.$name = $r.get($key, $v, $expected)
    };
    ($r:ident, $c:ident, $key:ident, $v:ident; or_null($expected:literal); $name:ident) => {
        $c.$name = if $v.is_null() {
            Some(None)
        } else {
            $r.get($key, $v, $expected).map(Some)
        }
    };
    ($r:ident, $c:ident, $key:ident, $v:ident; call($method:ident, $shown:literal); $name:ident) => {
        $c.$name = $r.$method($key, $v)
    };
    ($r:ident, $c:ident, $key:ident, $v:ident; with($f:path, $shown:literal); $($name:ident)?) => {
        $f($r, $c, $key, $v)
    };
    ($r:ident, $c:ident, $key:ident, $v:ident; or_null_with($f:path, $shown:literal); $($name:ident)?) => {
        $f($r, $c, $key, $v)
    };
}

/// Whether `null` is a value of its own for this field (else it means "the default").
macro_rules! config_null_is_a_value {
    (or_null($($x:tt)*)) => {
        true
    };
    (or_null_with($($x:tt)*)) => {
        true
    };
    ($($x:tt)*) => {
        false
    };
}

/// The README's description of the JSON value a field takes.
#[cfg(test)]
macro_rules! config_value_doc {
    (get($expected:literal)) => {
        $expected
    };
    (or_null($expected:literal)) => {
        $expected
    };
    (call($method:ident, $shown:literal)) => {
        $shown
    };
    (with($f:path, $shown:literal)) => {
        $shown
    };
    (or_null_with($f:path, $shown:literal)) => {
        $shown
    };
}

/// The README's default of a field: fixed text, or computed for each preset.
#[cfg(test)]
macro_rules! config_default_doc {
    (text($text:literal)) => {
        $crate::config::docs::DefaultDoc::Text($text)
    };
    ($kind:ident($p:ident => $e:expr)) => {
        $crate::config::docs::DefaultDoc::PerPreset(|preset| {
            #[allow(unused_variables)]
            let $p: $crate::preset::Preset = preset;
            $crate::config::docs::Shown::shown(&$e)
        })
    };
}

/// The effective value of one field: the given value, else the preset's default.
macro_rules! config_effective {
    ($name:ident: $ty:ty; value($p:ident => $e:expr)) => {
        pub fn $name(&self) -> $ty {
            match &self.config.$name {
                Some(v) => v.clone(),
                None => {
                    #[allow(unused_variables)]
                    let $p: $crate::preset::Preset = self.preset;
                    $crate::config::declare::FromDefault::from_default($e)
                }
            }
        }
    };
    ($name:ident: $ty:ty; maybe($p:ident => $e:expr)) => {
        pub fn $name(&self) -> Option<$ty> {
            match &self.config.$name {
                Some(v) => Some(v.clone()),
                None => {
                    #[allow(unused_variables)]
                    let $p: $crate::preset::Preset = self.preset;
                    $e.map($crate::config::declare::FromDefault::from_default)
                }
            }
        }
    };
    ($name:ident: $ty:ty; $kind:ident($($x:tt)*)) => {};
}

/// Generates everything derived from the declaration (see the module documentation).
macro_rules! config_fields {
    ($(
        $(#[doc = $doc:literal])*
        $key:literal $(=> $name:ident: $ty:ty)? {
            set: $set:tt,
            read: $read:ident $read_args:tt,
            default: $default:ident $default_args:tt,
        }
    )*) => {
        /// The configuration of one client. See the module documentation.
        #[derive(Clone, Default)]
        pub struct Config {
            $($(pub(super) $name: Option<$ty>,)?)*
            /// The options of document 004 that build the URL.
            pub(super) metis: $crate::config::reader::Metis,
        }

        impl Config {
            $(config_setter!($set; [$($doc)*]; $($name: $ty)?);)*
        }

        /// Every configuration field name, in schema order.
        pub const FIELDS: &[&str] = &[$($key),*];

        /// Reads the JSON value of field `key` into `c`; `false` for an unknown field.
        pub(super) fn read_field(
            r: &mut $crate::config::reader::Reader,
            c: &mut Config,
            key: &str,
            v: serde_json::Value,
        ) -> bool {
            match key {
                $($key => {
                    // `null` means "use the default" except where it has a meaning.
                    if v.is_null() && !config_null_is_a_value!($read $read_args) {
                        return true;
                    }
                    config_read!(r, c, key, v; $read $read_args; $($name)?);
                    true
                })*
                _ => false,
            }
        }

        /// A configuration seen through a preset: each field's value, given or default.
        pub(super) struct Effective<'a> {
            pub config: &'a Config,
            pub preset: $crate::preset::Preset,
        }

        impl Effective<'_> {
            $($(config_effective!($name: $ty; $default $default_args);)?)*
        }

        /// One row of the README's field table per field, in schema order.
        #[cfg(test)]
        pub(super) const FIELD_DOCS: &[$crate::config::docs::FieldDoc] = &[$(
            $crate::config::docs::FieldDoc {
                name: $key,
                value: config_value_doc!($read $read_args),
                default: config_default_doc!($default $default_args),
                doc: &[$($doc),*],
            }
        ),*];
    };
}

/// Converts a preset's default into the type of the field it is the default of.
pub(crate) trait FromDefault<D> {
    /// The field's value for this default.
    fn from_default(d: D) -> Self;
}

impl<T> FromDefault<T> for T {
    fn from_default(d: T) -> T {
        d
    }
}

impl FromDefault<&'static str> for String {
    fn from_default(d: &'static str) -> String {
        d.to_string()
    }
}

impl FromDefault<Option<&'static str>> for Option<String> {
    fn from_default(d: Option<&'static str>) -> Option<String> {
        d.map(String::from)
    }
}

/// A size in bytes: a default the README shows as `16 MiB`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct Bytes(pub usize);

impl FromDefault<Bytes> for usize {
    fn from_default(d: Bytes) -> usize {
        d.0
    }
}
