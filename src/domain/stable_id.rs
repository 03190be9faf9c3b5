//! Stable short ids derived from a key: the Statuspage API's object ids and the mails'
//! Message-IDs, so the same thing gets the same id across restarts.

/// A stable 12-character lowercase alphanumeric id for `key` (FNV-1a, base 36).
pub fn stable_id(key: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in key.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    const DIGITS: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = [b'0'; 12];
    for slot in out.iter_mut().rev() {
        *slot = DIGITS[(h % 36) as usize];
        h /= 36;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stable_ids_are_twelve_lowercase_alphanumerics_and_stable() {
        let a = stable_id("component:edge-api");
        assert_eq!(a.len(), 12);
        assert!(a
            .bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase()));
        assert_eq!(a, stable_id("component:edge-api"));
        assert_ne!(a, stable_id("component:edge-api/eu-west-2"));
    }
}
