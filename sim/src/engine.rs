//! The discrete-event engine: a priority queue of events ordered by (time, sequence).
//!
//! Time is an integer (microseconds); events at the same time come out in the order they were
//! scheduled, so a run never depends on heap internals. Events pushed with [`EventQueue::push_late`]
//! come after every ordinary event of their instant: a scheduler's periodic work (an allocation
//! cycle, a retry pass, a sample) sees everything that happened at that time. There is no clock and
//! no global state.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use crate::workload::Time;

struct Entry<E> {
    time: Time,
    /// 0 for ordinary events, 1 for end-of-instant work.
    class: u8,
    seq: u64,
    event: E,
}

impl<E> PartialEq for Entry<E> {
    fn eq(&self, other: &Self) -> bool {
        (self.time, self.class, self.seq) == (other.time, other.class, other.seq)
    }
}
impl<E> Eq for Entry<E> {}
impl<E> PartialOrd for Entry<E> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<E> Ord for Entry<E> {
    /// Reversed, so that the max-heap pops the earliest (time, class, seq) first.
    fn cmp(&self, other: &Self) -> Ordering {
        (other.time, other.class, other.seq).cmp(&(self.time, self.class, self.seq))
    }
}

/// Pending events, earliest first; ties in time go to the one scheduled first.
pub struct EventQueue<E> {
    heap: BinaryHeap<Entry<E>>,
    next_seq: u64,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        EventQueue {
            heap: BinaryHeap::new(),
            next_seq: 0,
        }
    }
}

impl<E> EventQueue<E> {
    /// An empty queue.
    pub fn new() -> EventQueue<E> {
        EventQueue::default()
    }

    /// Schedules `event` at `time`.
    pub fn push(&mut self, time: Time, event: E) {
        self.push_class(time, 0, event);
    }

    /// Schedules `event` at `time`, after every ordinary event of that time.
    pub fn push_late(&mut self, time: Time, event: E) {
        self.push_class(time, 1, event);
    }

    fn push_class(&mut self, time: Time, class: u8, event: E) {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.heap.push(Entry {
            time,
            class,
            seq,
            event,
        });
    }

    /// Removes and returns the earliest event.
    pub fn pop(&mut self) -> Option<(Time, E)> {
        self.heap.pop().map(|e| (e.time, e.event))
    }

    /// The time of the earliest event.
    pub fn peek_time(&self) -> Option<Time> {
        self.heap.peek().map(|e| e.time)
    }

    /// Number of pending events.
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// True when nothing is scheduled.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }

    /// Events scheduled since the queue was made.
    pub fn scheduled(&self) -> u64 {
        self.next_seq
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn earliest_first_then_scheduling_order() {
        let mut q = EventQueue::new();
        q.push(5, "c");
        q.push(1, "a");
        q.push(5, "d");
        q.push(1, "b");
        q.push(3, "x");
        let order: Vec<&str> = std::iter::from_fn(|| q.pop().map(|(_, e)| e)).collect();
        assert_eq!(order, ["a", "b", "x", "c", "d"]);
    }

    #[test]
    fn late_events_come_after_every_ordinary_event_of_their_instant() {
        let mut q = EventQueue::new();
        q.push_late(1, "tick");
        q.push(1, "arrival-1");
        q.push(1, "arrival-2");
        q.push(0, "early");
        let order: Vec<&str> = std::iter::from_fn(|| q.pop().map(|(_, e)| e)).collect();
        assert_eq!(order, ["early", "arrival-1", "arrival-2", "tick"]);
    }
}
