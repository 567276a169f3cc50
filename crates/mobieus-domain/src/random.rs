//! Random strings from the operating system's CSPRNG, for ids and secrets.

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Fills `buf` from the OS CSPRNG. Failing to read it means the machine cannot make
/// secrets at all, so this aborts rather than hand out predictable bytes.
pub fn fill(buf: &mut [u8]) {
    #[expect(clippy::expect_used, reason = "no CSPRNG: no safe way to go on")]
    getrandom::fill(buf).expect("the operating system's random number generator failed");
}

/// `n` base62 characters, uniformly distributed (rejection sampling, no modulo bias).
pub fn base62(n: usize) -> String {
    let mut out = String::with_capacity(n);
    let mut buf = [0u8; 64];
    while out.len() < n {
        fill(&mut buf);
        for b in buf {
            // 248 = 4 * 62: bytes above it would favour the first characters.
            if b < 248 && out.len() < n {
                out.push(BASE62[usize::from(b % 62)] as char);
            }
        }
    }
    out
}

/// Encodes `value` in base62 with exactly `width` characters (most significant first).
pub fn base62_fixed(mut value: u64, width: usize) -> String {
    let mut chars = vec![b'0'; width];
    for slot in chars.iter_mut().rev() {
        *slot = BASE62[(value % 62) as usize];
        value /= 62;
    }
    String::from_utf8_lossy(&chars).into_owned()
}

/// Whether `s` is made of base62 characters only.
pub fn is_base62(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base62_has_the_length_and_alphabet_asked() {
        let s = base62(40);
        assert_eq!(s.len(), 40);
        assert!(is_base62(&s));
        assert_ne!(s, base62(40));
    }

    #[test]
    fn fixed_width_encoding_pads_and_orders() {
        assert_eq!(base62_fixed(0, 3), "000");
        assert_eq!(base62_fixed(61, 2), "0z");
        assert_eq!(base62_fixed(62, 2), "10");
    }
}
