//! How the removed parameters split between heads and MLP neurons (`rank.head_share`).

use serde::{Deserialize, Serialize};

/// How the removed parameters split between heads and MLP neurons.
#[derive(Clone, Copy, Debug, PartialEq, Default, Serialize, Deserialize)]
#[serde(untagged)]
pub enum HeadShare {
    /// A fixed fraction in [0, 1] of the removed parameters taken from heads.
    Fraction(f64),
    /// `auto`: the same fraction of attention and of MLP parameters.
    #[default]
    #[serde(with = "auto_tag")]
    Auto,
}

mod auto_tag {
    //! (De)serialises the unit variant `HeadShare::Auto` as the string `auto`.
    use serde::{Deserialize, Deserializer, Serializer};
    pub(super) fn serialize<S: Serializer>(s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str("auto")
    }
    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<(), D::Error> {
        let text = String::deserialize(d)?;
        if text == "auto" { Ok(()) } else { Err(serde::de::Error::custom("expected `auto` or a number in [0, 1]")) }
    }
}
