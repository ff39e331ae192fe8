//! The process-wide table of booking tags: a label set and which of the
//! user's accounts the counterpart IBAN names, numbered in order of first sight.

use crate::labels::LabelSet;
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU8, AtomicU64, AtomicUsize, Ordering};

/// The tags bookings carry, numbered in order of first sight: the label
/// set, and the position of the user's account the counterpart IBAN names
/// (`NAMES_NONE` for none). Number 0 is the empty set naming none.
/// Append-only, so a number never changes meaning.
pub(super) static TAG_LABELS: [AtomicU64; 1 << 16] = [const { AtomicU64::new(0) }; 1 << 16];
pub(super) static TAG_NAMES: [AtomicU8; 1 << 16] = [const { AtomicU8::new(NAMES_NONE) }; 1 << 16];
pub(super) static TAGS_USED: AtomicUsize = AtomicUsize::new(1);
pub(super) static TAG_NUMBERS: Mutex<Option<HashMap<(u64, u8), u16>>> = Mutex::new(None);
pub(super) const NAMES_NONE: u8 = u8::MAX;

/// A booking's tag: its labels and the account its counterpart names.
pub(super) type Tag = (u64, u8);

/// The number of a tag; `None` once 65,536 tags are numbered.
pub(super) fn tag_number(tag: Tag) -> Option<u16> {
    if tag == (0, NAMES_NONE) {
        return Some(0);
    }
    let mut numbers = TAG_NUMBERS.lock().unwrap_or_else(|e| e.into_inner());
    let numbers = numbers.get_or_insert_with(HashMap::new);
    if let Some(n) = numbers.get(&tag) {
        return Some(*n);
    }
    let n = TAGS_USED.load(Ordering::Relaxed);
    let number = u16::try_from(n).ok()?;
    TAG_LABELS[n].store(tag.0, Ordering::Release);
    TAG_NAMES[n].store(tag.1, Ordering::Release);
    TAGS_USED.store(n + 1, Ordering::Release);
    numbers.insert(tag, number);
    Some(number)
}

pub(super) fn tag_labels(number: u16) -> LabelSet {
    LabelSet(TAG_LABELS[usize::from(number)].load(Ordering::Acquire))
}

pub(super) fn tag_names(number: u16) -> Option<usize> {
    let n = TAG_NAMES[usize::from(number)].load(Ordering::Acquire);
    (n != NAMES_NONE).then_some(usize::from(n))
}

/// Numbers tags, with a local cache in front of the shared table.
#[derive(Default)]
pub struct TagNumbers {
    pub(super) cache: HashMap<Tag, u16>,
}

impl TagNumbers {
    pub(super) fn number(&mut self, labels: LabelSet, names: Option<u8>) -> Option<u16> {
        // Position 255 cannot be told from "none": such a user stays unindexed.
        let tag = (
            labels.0,
            names.map_or(Some(NAMES_NONE), |n| (n != NAMES_NONE).then_some(n))?,
        );
        if let Some(n) = self.cache.get(&tag) {
            return Some(*n);
        }
        let n = tag_number(tag)?;
        self.cache.insert(tag, n);
        Some(n)
    }
}
