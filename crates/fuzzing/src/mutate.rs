//! A small seeded mutator for the in-test fuzz pass: byte flips, insertions of tokens the
//! parsers care about, deletions, duplications and splices of two corpus entries. Seeded, so
//! a failure in CI reproduces exactly; the seed and the input are printed when a target panics.

/// xorshift64*: enough randomness for mutation, no dependency, stable across platforms.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    #[allow(clippy::should_implement_trait)] // an endless generator, not an iterator
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

/// Fragments that reach the parsers' interesting branches: full-width digits, the check
/// characters, period letters, expression keywords, CSV and TOML syntax, zip and XLSX markers,
/// and bytes that are not UTF-8.
const TOKENS: &[&[u8]] = &[
    "０".as_bytes(),
    "Ｘ".as_bytes(),
    "\u{3000}".as_bytes(),
    "\u{200b}".as_bytes(),
    b"x",
    b"X",
    b"W53",
    b"Q4",
    b"S2",
    b"0229",
    b"9999",
    b"E+17",
    b"sum(",
    b"count(",
    b"ledger(\"",
    b"value(\"",
    b" in period",
    b" at end",
    b"prev_year(",
    b"ratio(",
    b")",
    b"\"",
    b",",
    b"\n",
    b"\r\n",
    b"=",
    b"+",
    b"-",
    b"@",
    b"[[fields]]\n",
    b"type = \"int\"\n",
    b"key = \"a\"\n",
    b"PK\x03\x04",
    b"PK\x01\x02",
    b"PK\x05\x06",
    b"<row r=\"1048576\">",
    b"%",
    b"%ZZ",
    b"&",
    b"\xff\xfe",
    b"\xe4\xb8",
    b"\x00",
];

/// One mutation of `input`, sometimes spliced with `other`.
pub fn mutate(rng: &mut Rng, input: &[u8], other: &[u8], max_len: usize) -> Vec<u8> {
    let mut out = input.to_vec();
    let rounds = 1 + rng.below(4);
    for _ in 0..rounds {
        let at = rng.below(out.len() + 1);
        match rng.below(7) {
            0 if !out.is_empty() => {
                let i = rng.below(out.len());
                out[i] ^= 1 << rng.below(8);
            }
            1 if !out.is_empty() => {
                let i = rng.below(out.len());
                out[i] = rng.next() as u8;
            }
            2 => {
                let t = TOKENS[rng.below(TOKENS.len())];
                out.splice(at..at, t.iter().copied());
            }
            3 if !out.is_empty() => {
                let len = 1 + rng.below(8.min(out.len() - at.min(out.len())).max(1));
                let end = (at + len).min(out.len());
                out.drain(at.min(end)..end);
            }
            4 if !out.is_empty() => {
                let start = rng.below(out.len());
                let end = (start + 1 + rng.below(16)).min(out.len());
                let chunk = out[start..end].to_vec();
                out.splice(at..at, chunk);
            }
            5 if !other.is_empty() => {
                let cut = rng.below(other.len());
                out.truncate(at);
                out.extend_from_slice(&other[cut..]);
            }
            _ => out.push(rng.next() as u8),
        }
    }
    out.truncate(max_len);
    out
}
