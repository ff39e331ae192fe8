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

/// The number of a code of three letters A–Z, below 26³.
const fn code_number(b: [u8; 3]) -> Option<usize> {
    let mut n = 0;
    let mut i = 0;
    while i < 3 {
        if !b[i].is_ascii_uppercase() {
            return None;
        }
        n = n * 26 + (b[i] - b'A') as usize;
        i += 1;
    }
    Some(n)
}

/// `CODES` as a set of bits by [`code_number`].
const ACTIVE: [u64; (26 * 26 * 26usize).div_ceil(64)] = {
    let codes = CODES.as_bytes();
    let mut bits = [0u64; (26 * 26 * 26usize).div_ceil(64)];
    let mut i = 0;
    while i + 3 <= codes.len() {
        match code_number([codes[i], codes[i + 1], codes[i + 2]]) {
            Some(n) => bits[n / 64] |= 1 << (n % 64),
            None => panic!("CODES holds three capital letters a code"),
        }
        i += 4;
    }
    bits
};

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
        // One bit per possible code (the bulk import asks once per record;
        // a search of the list was 1 % of its parsing).
        let n = code_number(b)?;
        (ACTIVE[n / 64] >> (n % 64) & 1 == 1).then_some(Currency(b))
    }

    #[allow(unsafe_code)]
    pub fn as_str(&self) -> &str {
        // SAFETY: every constructor takes three capital letters A–Z
        // (`code_number`, or a `WITHDRAWN` code), which are UTF-8. The
        // checked conversion was 1 % of the bulk import's writer, which
        // binds every row's currency as text.
        unsafe { std::str::from_utf8_unchecked(&self.0) }
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
    fn every_code_of_three_letters_is_active_exactly_when_listed() {
        // `ACTIVE` is read at a fixed width of four bytes a code.
        let codes: Vec<&str> = CODES.split(' ').collect();
        assert!(codes.iter().all(|c| c.len() == 3));
        for n in 0..26 * 26 * 26 {
            let b = [n / 676, n / 26 % 26, n % 26].map(|d| b'A' + d as u8);
            let code = std::str::from_utf8(&b).unwrap();
            assert_eq!(
                Currency::parse(code).map(|x| x.to_string()).as_deref(),
                codes.contains(&code).then_some(code),
            );
        }
    }
}
