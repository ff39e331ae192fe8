//! ISO 4217 currency codes.

use std::fmt;

/// An active ISO 4217 alphabetic code, stored as its three ASCII letters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency([u8; 3]);

/// Active ISO 4217 codes (list one, 2024), plus the precious-metal and
/// special codes banks use on statements (XAU, XAG, XDR, …).
const CODES: &str = "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BOV BRL BSD BTN BWP \
BYN BZD CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL \
GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK \
LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN \
PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD SSP STN SVC SYP SZL THB TJS TMT \
TND TOP TRY TTD TWD TZS UAH UGX USD USN UYI UYU UYW UZS VED VES VND VUV WST XAF XAG XAU XCD XCG XDR XOF XPD XPF XPT \
XSU XUA YER ZAR ZMW ZWG ZWL";

/// Withdrawn ISO 4217 codes (list three): old bank statement files carry
/// them (a 2001 MT940 in DEM). Only statement parsing accepts these.
const WITHDRAWN: &str = "ADP AFA ALK AOK AON AOR ARA ARP ATS AYM AZM BAD BEC BEF BEL BGJ BGK BGL BOP BRB BRC BRE BRN \
BRR BUK BYB BYR CHC CSD CSJ CSK CYP DDM DEM ECS ECV EEK ESA ESB ESP FIM FRF GEK GHC GHP GNE GNS GQE GRD GWE GWP HRD HRK \
IEP ILP ILR ISJ ITL LAJ LSM LTL LTT LUC LUF LUL LVL LVR MGF MLF MRO MTL MTP MVQ MXP MZE MZM NIC NLG PEH PEI PES PLZ PTE \
RHD ROK ROL RUR SDD SDP SIT SKK SRG STD SUR TJR TMM TPE TRL UAK UGS UGW UYN UYP VEB VEF VNC XEU XFO XFU YDD YUD YUM YUN \
ZAL ZMK ZRN ZRZ ZWC ZWD ZWN ZWR";

impl Currency {
    pub const EUR: Currency = Currency(*b"EUR");

    /// Accepts an active or a withdrawn code (upper case), for historical
    /// statement files; ingestion of live data uses [`Currency::parse`].
    pub fn parse_historical(s: &str) -> Option<Self> {
        Self::parse(s).or_else(|| {
            let b = s.as_bytes();
            (b.len() == 3 && WITHDRAWN.split(' ').any(|c| c == s))
                .then(|| Currency([b[0], b[1], b[2]]))
        })
    }

    /// Accepts an active code in upper case only, as ISO 4217 writes it.
    pub fn parse(s: &str) -> Option<Self> {
        let b: [u8; 3] = s.as_bytes().try_into().ok()?;
        // `CODES` is sorted: a binary search over its fixed-width entries
        // (the bulk import asks once per record).
        let codes = CODES.as_bytes();
        let (mut lo, mut hi) = (0, codes.len().div_ceil(4));
        while lo < hi {
            let mid = (lo + hi) / 2;
            match codes[mid * 4..mid * 4 + 3].cmp(&b) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Some(Currency(b)),
            }
        }
        None
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).expect("ASCII by construction")
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for Currency {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_active_codes_only() {
        assert_eq!(Currency::parse("EUR"), Some(Currency::EUR));
        assert!(Currency::parse("CHF").is_some());
        assert!(Currency::parse("DEM").is_none()); // withdrawn
        assert!(Currency::parse("eur").is_none());
        assert!(Currency::parse("EURO").is_none());
        assert!(Currency::parse("XXX").is_none());
        assert!(Currency::parse("AED").is_some()); // the first and the last entry
        assert!(Currency::parse("ZWL").is_some());
        assert!(Currency::parse("AAA").is_none());
        assert!(Currency::parse("ZZZ").is_none());
        assert!(Currency::parse("").is_none());
        assert_eq!(Currency::parse_historical("DEM").unwrap().as_str(), "DEM");
        assert!(Currency::parse_historical("EUR").is_some());
        assert!(Currency::parse_historical("dem").is_none());
    }

    #[test]
    fn the_code_table_is_sorted_and_fixed_width() {
        // `parse` relies on both.
        let codes: Vec<&str> = CODES.split(' ').collect();
        assert!(codes.iter().all(|c| c.len() == 3));
        assert!(codes.windows(2).all(|w| w[0] < w[1]));
        for c in codes {
            assert_eq!(
                Currency::parse(c).map(|x| x.to_string()).as_deref(),
                Some(c)
            );
        }
    }
}
