//! RFC 6962 Merkle Tree Hash (docs/spec/hashing.md, section 3).
//!
//! leaf = SHA-256(0x00 || data), node = SHA-256(0x01 || left || right). `Tree` is the streaming
//! form used by `cognify_hashing.merkle.MerkleBuilder`: the roots of complete subtrees sit on
//! a stack merged like a binary counter (bit k of the leaf count set <=> a subtree of 2**k
//! leaves on the stack), so memory is one hash per bit of the count.

use sha2::block_api::compress256;
use sha2::{Digest, Sha256};

pub type Hash = [u8; 32];
pub const HASH_SIZE: usize = 32;

const IV: [u32; 8] = [
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
];

/// SHA-256 of zero bytes: the root of the empty tree.
pub fn empty_root() -> Hash {
    Sha256::digest(b"").into()
}

/// SHA-256(0x00 || data).
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(data);
    h.finalize().into()
}

/// SHA-256(0x01 || left || right): exactly two compression blocks, padded by hand.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut blocks = [[0u8; 64]; 2];
    blocks[0][0] = 0x01;
    blocks[0][1..33].copy_from_slice(left);
    blocks[0][33..64].copy_from_slice(&right[..31]);
    blocks[1][0] = right[31];
    blocks[1][1] = 0x80;
    blocks[1][56..64].copy_from_slice(&(65u64 * 8).to_be_bytes());
    let mut state = IV;
    compress256(&mut state, &blocks);
    let mut out = [0u8; 32];
    for (chunk, word) in out.chunks_exact_mut(4).zip(state) {
        chunk.copy_from_slice(&word.to_be_bytes());
    }
    out
}

/// Streaming RFC 6962 root over leaves added in order.
#[derive(Default, Clone)]
pub struct Tree {
    stack: Vec<Hash>,
    size: u64,
}

impl Tree {
    pub fn size(&self) -> u64 {
        self.size
    }

    pub fn push(&mut self, leaf: Hash) {
        let mut node = leaf;
        let mut count = self.size;
        while count & 1 == 1 {
            let left = self.stack.pop().expect("one stacked subtree per set bit");
            node = node_hash(&left, &node);
            count >>= 1;
        }
        self.stack.push(node);
        self.size += 1;
    }

    /// Push leaf hashes given as consecutive 32-byte values.
    pub fn push_hashes(&mut self, hashes: &[u8]) {
        for chunk in hashes.chunks_exact(HASH_SIZE) {
            self.push(chunk.try_into().expect("32-byte chunk"));
        }
    }

    /// The Merkle Tree Hash of every leaf so far: stacked subtrees joined largest first,
    /// r0 + (r1 + (r2 + ...)), as RFC 6962's split at the largest power of two gives.
    pub fn root(&self) -> Hash {
        let Some((last, rest)) = self.stack.split_last() else {
            return empty_root();
        };
        rest.iter()
            .rev()
            .fold(*last, |acc, left| node_hash(left, &acc))
    }
}

/// Root of the leaf hashes `hashes[lo..hi]` (32-byte values).
fn range_root(hashes: &[u8], lo: usize, hi: usize) -> Hash {
    let mut tree = Tree::default();
    tree.push_hashes(&hashes[lo * HASH_SIZE..hi * HASH_SIZE]);
    tree.root()
}

/// RFC 6962 §2.1.1 PATH(m, D[n]) over leaf hashes: siblings from the leaf level upwards.
pub fn inclusion_path(hashes: &[u8], index: usize) -> Vec<Hash> {
    let mut path = Vec::new();
    let (mut lo, mut hi, mut m) = (0usize, hashes.len() / HASH_SIZE, index);
    // Walk down from the root, remembering the sibling subtree at each split.
    let mut siblings = Vec::new();
    while hi - lo > 1 {
        let n = hi - lo;
        let k = 1usize << (usize::BITS - 1 - (n - 1).leading_zeros()); // largest 2^j < n
        if m < k {
            siblings.push((lo + k, hi));
            hi = lo + k;
        } else {
            siblings.push((lo, lo + k));
            lo += k;
            m -= k;
        }
    }
    for &(a, b) in siblings.iter().rev() {
        path.push(range_root(hashes, a, b));
    }
    path
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rfc_root(leaves: &[Hash]) -> Hash {
        match leaves.len() {
            0 => empty_root(),
            1 => leaves[0],
            n => {
                let k = 1usize << (usize::BITS - 1 - (n - 1).leading_zeros());
                node_hash(&rfc_root(&leaves[..k]), &rfc_root(&leaves[k..]))
            }
        }
    }

    #[test]
    fn node_hash_matches_the_digest_api() {
        let (l, r) = (leaf_hash(b"l"), leaf_hash(b"r"));
        let mut h = Sha256::new();
        h.update([1u8]);
        h.update(l);
        h.update(r);
        let expected: Hash = h.finalize().into();
        assert_eq!(node_hash(&l, &r), expected);
    }

    #[test]
    fn streaming_root_matches_the_recursion() {
        let leaves: Vec<Hash> = (0u32..300).map(|i| leaf_hash(&i.to_be_bytes())).collect();
        for n in 0..leaves.len() {
            let mut tree = Tree::default();
            for leaf in &leaves[..n] {
                tree.push(*leaf);
            }
            assert_eq!(tree.root(), rfc_root(&leaves[..n]), "size {n}");
        }
    }
}
