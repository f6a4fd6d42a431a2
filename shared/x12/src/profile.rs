//! Trading-partner profiles: how one partner wants its 810s written (ids, release, separators,
//! usage, ISA14) and how its inbound files are read and answered (TA1 policy, which groups get a
//! 997, whether a remit-to party may name the vendor, tax in TDS, default currency).

use serde::{Deserialize, Serialize};

use mlc_core::money::Currency;

use crate::delimiters::Delimiters;
use crate::headers::{Release, TaxInTds};
use crate::writer::{LineEnding, RenderError, Usage};

/// Separators as characters (each must be one byte: ASCII or Latin-1 such as NEL `\u{85}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Separators {
    pub element: char,
    pub component: char,
    /// Used in 005010 (ISA11); 004010 writes `U` there.
    pub repetition: char,
    pub segment: char,
    /// Line break after each terminator (ignored when the terminator is itself a line break).
    pub line_ending: LineEnding,
}

impl Default for Separators {
    fn default() -> Self {
        Separators { element: '*', component: '>', repetition: '^', segment: '~', line_ending: LineEnding::Lf }
    }
}

impl Separators {
    /// The byte delimiters for a release, checked.
    pub fn delimiters(&self, release: &Release) -> Result<Delimiters, RenderError> {
        let byte = |c: char, what: &str| {
            u8::try_from(u32::from(c)).map_err(|_| RenderError::Profile(format!("{what} {c:?} is not a single byte")))
        };
        let d = Delimiters {
            element: byte(self.element, "element separator")?,
            component: byte(self.component, "component separator")?,
            repetition: if release.is_5010() { Some(byte(self.repetition, "repetition separator")?) } else { None },
            segment: byte(self.segment, "segment terminator")?,
            release: None,
        };
        d.validate().map_err(RenderError::Profile)?;
        Ok(d)
    }
}

/// How one trading partner wants its 810s.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartnerProfile {
    /// Key for control numbers and logs.
    pub partner: String,
    /// ISA05/ISA06: our qualifier and id.
    pub sender_qualifier: String,
    pub sender_id: String,
    /// ISA07/ISA08: the partner's.
    pub receiver_qualifier: String,
    pub receiver_id: String,
    /// GS02/GS03 application codes; default to the ISA ids.
    #[serde(default)]
    pub gs_sender: Option<String>,
    #[serde(default)]
    pub gs_receiver: Option<String>,
    #[serde(default)]
    pub release: Release,
    #[serde(default)]
    pub separators: Separators,
    #[serde(default)]
    pub usage: Usage,
    /// ISA14: ask for a TA1.
    #[serde(default)]
    pub ack_requested: bool,
    /// N103 for the seller's id (default `ZZ` mutually defined).
    #[serde(default = "default_seller_qualifier")]
    pub seller_id_qualifier: String,
    /// N103 for the buyer's id (default `91`, assigned by the seller — our client id).
    #[serde(default = "default_buyer_qualifier")]
    pub buyer_id_qualifier: String,
    /// How this partner's inbound files are read and answered.
    #[serde(default)]
    pub inbound: InboundRules,
}

/// When an inbound interchange is answered with a TA1 interchange acknowledgment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Ta1Policy {
    /// When ISA14 is `1` (the sender asks for one). X12.5's rule; the default.
    #[default]
    WhenRequested,
    /// For every interchange, also when ISA14 is `0` (some VANs expect it).
    Always,
    /// Never, even when asked (the partner agreed to rely on 997s).
    Never,
}

impl Ta1Policy {
    /// Whether a TA1 goes back for an interchange whose ISA14 is `requested`.
    pub fn answers(self, requested: bool) -> bool {
        match self {
            Ta1Policy::WhenRequested => requested,
            Ta1Policy::Always => true,
            Ta1Policy::Never => false,
        }
    }
}

/// Which inbound functional groups get a 997. Groups of 997s (`FA`) never do: an
/// acknowledgment is not acknowledged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum AckScope {
    /// Every group addressed to us; sets this product does not handle are acknowledged as
    /// rejected, "transaction set not supported" (AK5 `R`, AK502 `1`), so the partner knows they
    /// were not processed. The default: a mailbag's other groups are answered, not ignored.
    #[default]
    All,
    /// Only groups this product reads (invoices, `IN`); other groups are left to whatever else
    /// processes that mailbox.
    Handled,
    /// No 997s at all.
    None,
}

/// How a partner's inbound files are read and answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct InboundRules {
    #[serde(default)]
    pub ta1: Ta1Policy,
    #[serde(default)]
    pub acknowledge: AckScope,
    /// Whether N1*RE / N1*RI (the party receiving the remittance, the remit-to) may name the
    /// vendor when no N1*SE / SU / VN does. Off by default: a remit-to is often a bank or a
    /// factor, not the supplier.
    #[serde(default)]
    pub remit_to_names_vendor: bool,
    /// Whether this partner's TDS01 includes TXI tax.
    #[serde(default)]
    pub tax_in_tds: TaxInTds,
    /// Currency for invoices without a CUR segment (default USD).
    #[serde(default)]
    pub default_currency: Option<Currency>,
}

fn default_seller_qualifier() -> String {
    "ZZ".into()
}

fn default_buyer_qualifier() -> String {
    "91".into()
}

impl PartnerProfile {
    /// A 004010 profile with the usual separators.
    pub fn new(partner: impl Into<String>, sender: (&str, &str), receiver: (&str, &str)) -> Self {
        PartnerProfile {
            partner: partner.into(),
            sender_qualifier: sender.0.into(),
            sender_id: sender.1.into(),
            receiver_qualifier: receiver.0.into(),
            receiver_id: receiver.1.into(),
            gs_sender: None,
            gs_receiver: None,
            release: Release::V004010,
            separators: Separators::default(),
            usage: Usage::Production,
            ack_requested: false,
            seller_id_qualifier: default_seller_qualifier(),
            buyer_id_qualifier: default_buyer_qualifier(),
            inbound: InboundRules::default(),
        }
    }
}
