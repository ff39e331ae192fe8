//! Text as the rules match it: lower case, accents folded, everything but
//! letters and digits as one space, padded with a space at both ends.

/// Lower case, umlauts folded, everything but letters and digits as one
/// space, padded with a space at both ends.
pub fn normalise(text: &str, out: &mut String) {
    let mut v = std::mem::take(out).into_bytes();
    normalise_bytes(text, &mut v);
    *out = String::from_utf8(v).expect("ASCII bytes and whole characters only");
}

/// [`normalise`] appending to bytes (UTF-8 if `out` was): labelling scans
/// them as they are.
///
/// An ASCII text (almost every one) is copied and rewritten in place a
/// byte at a time through a table, without branches; only other texts are
/// decoded character by character. Decoding every character was a quarter
/// of labelling's time in an import.
pub(crate) fn normalise_bytes(text: &str, out: &mut Vec<u8>) {
    if !text.is_ascii() {
        return normalise_chars(text, out);
    }
    let start = out.len();
    out.push(b' ');
    out.extend_from_slice(text.as_bytes());
    out.push(b' ');
    let buf = &mut out[start..];
    let last = buf.len() - 1;
    // `w` never passes the byte read: every byte writes at most one.
    let mut w = 1;
    let mut space = true;
    for r in 1..last {
        let n = ASCII_NORMALISED[usize::from(buf[r])];
        let separator = n == 0;
        buf[w] = if separator { b' ' } else { n };
        // A separator is written only after a letter or digit.
        w += usize::from(!(separator && space));
        space = separator;
    }
    buf[w] = b' ';
    w += usize::from(!space);
    out.truncate(start + w);
}

/// [`normalise_bytes`] for text with characters beyond ASCII.
pub(crate) fn normalise_chars(text: &str, out: &mut Vec<u8>) {
    out.reserve(text.len() + 2);
    out.push(b' ');
    let mut space = true;
    for c in text.chars() {
        if c.is_ascii() {
            match ASCII_NORMALISED[c as usize] {
                0 if space => {}
                0 => {
                    out.push(b' ');
                    space = true;
                }
                n => {
                    out.push(n);
                    space = false;
                }
            }
            continue;
        }
        let folded = folded(c);
        if !folded.is_empty() {
            out.extend_from_slice(folded.as_bytes());
            space = false;
        } else if c.is_alphanumeric() {
            for l in c.to_lowercase() {
                out.extend_from_slice(l.encode_utf8(&mut [0; 4]).as_bytes());
            }
            space = false;
        } else if !space {
            out.push(b' ');
            space = true;
        }
    }
    if !space {
        out.push(b' ');
    }
}

/// What an ASCII byte becomes in normalised text: a letter or digit in
/// lower case, or 0 for anything else (a separator).
pub(super) const ASCII_NORMALISED: [u8; 128] = {
    let mut t = [0u8; 128];
    let mut b = 0;
    while b < 128 {
        let c = b as u8;
        if c.is_ascii_alphanumeric() {
            t[b] = c.to_ascii_lowercase();
        }
        b += 1;
    }
    t
};

/// What a German letter or an accented Latin letter folds to ("" for any
/// other character): German umlauts as German writes them without (ae, oe,
/// ue, ss), other accents dropped, so that the vocabularies can be written
/// in ASCII for every language a statement carries (intérêts, Ubezpieczenie
/// składki, försäkring).
pub(crate) fn folded(c: char) -> &'static str {
    match c {
        'ä' | 'Ä' | 'æ' | 'Æ' => "ae",
        'ö' | 'Ö' | 'ø' | 'Ø' | 'œ' | 'Œ' => "oe",
        'ü' | 'Ü' => "ue",
        'ß' => "ss",
        'á' | 'à' | 'â' | 'ã' | 'å' | 'ą' | 'Á' | 'À' | 'Â' | 'Ã' | 'Å' | 'Ą' => "a",
        'é' | 'è' | 'ê' | 'ë' | 'ę' | 'ě' | 'É' | 'È' | 'Ê' | 'Ë' | 'Ę' | 'Ě' => "e",
        'í' | 'ì' | 'î' | 'ï' | 'Í' | 'Ì' | 'Î' | 'Ï' => "i",
        'ó' | 'ò' | 'ô' | 'õ' | 'Ó' | 'Ò' | 'Ô' | 'Õ' => "o",
        'ú' | 'ù' | 'û' | 'ů' | 'Ú' | 'Ù' | 'Û' | 'Ů' => "u",
        'ç' | 'ć' | 'č' | 'Ç' | 'Ć' | 'Č' => "c",
        'ñ' | 'ń' | 'ň' | 'Ñ' | 'Ń' | 'Ň' => "n",
        'ś' | 'š' | 'Ś' | 'Š' => "s",
        'ź' | 'ż' | 'ž' | 'Ź' | 'Ż' | 'Ž' => "z",
        'ł' | 'Ł' => "l",
        'ř' | 'Ř' => "r",
        'ý' | 'ÿ' | 'Ý' => "y",
        _ => "",
    }
}
