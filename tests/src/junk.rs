//! Junk for floods of random requests: a small deterministic generator (xorshift), so
//! that a failing flood can be replayed from its seed.

/// A generator of random-looking words.
pub struct Junk(u64);

impl Junk {
    /// A generator started from `seed` (not 0).
    pub fn new(seed: u64) -> Junk {
        Junk(seed)
    }

    /// The next number.
    pub fn number(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A word of `len` characters of `alphabet`.
    pub fn word(&mut self, alphabet: &[u8], len: usize) -> String {
        (0..len)
            .map(|_| alphabet[(self.number() % alphabet.len() as u64) as usize] as char)
            .collect()
    }
}
