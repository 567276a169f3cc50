//! Random bytes and strings from the operating system's CSPRNG: [`fill`] and [`base62`]
//! straight from it, for secrets; [`id_fill`] and [`id_base62`] from a per-thread buffer
//! of its bytes, refilled a page at a time, for identifiers (a request, an event, a
//! delivery each need some, and a system call for each took 1.5 % of the CPU of a feed
//! request). Secrets never come from the buffer, so none sits in memory before use.

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Fills `buf` from the OS CSPRNG. Failing to read it means the machine cannot make
/// secrets at all, so this aborts rather than hand out predictable bytes.
pub fn fill(buf: &mut [u8]) {
    #[expect(clippy::expect_used, reason = "no CSPRNG: no safe way to go on")]
    getrandom::fill(buf).expect("the operating system's random number generator failed");
}

/// `n` base62 characters, uniformly distributed (rejection sampling, no modulo bias).
pub fn base62(n: usize) -> String {
    base62_from(n, fill)
}

/// Fills `buf` with the OS CSPRNG's bytes, taken from this thread's buffer of them: for
/// identifiers and jitter, never for secrets.
pub fn id_fill(buf: &mut [u8]) {
    use std::cell::RefCell;
    const PAGE: usize = 4096;
    thread_local! {
        static BUFFER: RefCell<(Vec<u8>, usize)> = const { RefCell::new((Vec::new(), 0)) };
    }
    BUFFER.with_borrow_mut(|(bytes, used)| {
        let mut filled = 0;
        while filled < buf.len() {
            if *used == bytes.len() {
                bytes.resize(PAGE, 0);
                fill(bytes);
                *used = 0;
            }
            let n = (buf.len() - filled).min(bytes.len() - *used);
            buf[filled..filled + n].copy_from_slice(&bytes[*used..*used + n]);
            // Bytes handed out are not kept.
            bytes[*used..*used + n].fill(0);
            *used += n;
            filled += n;
        }
    });
}

/// [`base62`] from [`id_fill`]: for identifiers, never for secrets.
pub fn id_base62(n: usize) -> String {
    base62_from(n, id_fill)
}

fn base62_from(n: usize, source: fn(&mut [u8])) -> String {
    let mut out = String::with_capacity(n);
    let mut buf = [0u8; 32];
    while out.len() < n {
        source(&mut buf);
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
    fn identifiers_from_the_buffer_differ_across_refills() {
        let ids: std::collections::HashSet<String> = (0..1000).map(|_| id_base62(20)).collect();
        assert_eq!(ids.len(), 1000);
        assert!(ids.iter().all(|s| s.len() == 20 && is_base62(s)));
        let mut a = [0u8; 5000];
        id_fill(&mut a);
        assert!(a.iter().any(|b| *b != 0));
        assert_ne!(a[..2500], a[2500..]);
    }

    #[test]
    fn fixed_width_encoding_pads_and_orders() {
        assert_eq!(base62_fixed(0, 3), "000");
        assert_eq!(base62_fixed(61, 2), "0z");
        assert_eq!(base62_fixed(62, 2), "10");
    }
}
