//! A pod's feed: what its subscribers — attached ctl clients, a spawn waiting for a
//! commit — receive of it, across its generations.
//!
//! Every subscriber has a queue of its own, bounded at [`FEED_CAPACITY`] and allocated as it
//! fills, so a subscription costs nothing up front (a ring shared by all subscribers would
//! be allocated whole by each `ctl cancel`), and the last subscriber takes each item
//! without a copy. Publishing never waits: a subscriber whose queue is full has fallen
//! behind and is dropped; it reads what it had, then learns why it was dropped.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::mpsc::{self, error::TrySendError};

use super::Feed;

/// Items one subscriber may have waiting before it is dropped for falling behind.
pub const FEED_CAPACITY: usize = 16384;

/// The subscribers of one pod. Empty (and free) while nobody listens.
#[derive(Debug, Clone, Default)]
pub struct Subscribers {
    subscribers: Vec<Subscriber>,
}

#[derive(Debug, Clone)]
struct Subscriber {
    queue: mpsc::Sender<Feed>,
    /// Set when it was dropped for falling behind.
    lagged: Arc<AtomicBool>,
}

/// One subscription: the items published since it was made.
#[derive(Debug)]
pub struct Subscription {
    queue: mpsc::Receiver<Feed>,
    lagged: Arc<AtomicBool>,
}

/// Why a subscription ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedEnd {
    /// It fell [`FEED_CAPACITY`] items behind and was dropped.
    Lagged,
    /// The pod left the tree (or the root is going away).
    Closed,
}

impl Subscribers {
    /// A new subscription, seeing what is published from now on.
    pub fn subscribe(&mut self) -> Subscription {
        let (queue, rx) = mpsc::channel(FEED_CAPACITY);
        let lagged = Arc::new(AtomicBool::new(false));
        self.subscribers.push(Subscriber {
            queue,
            lagged: lagged.clone(),
        });
        Subscription { queue: rx, lagged }
    }

    /// Whether nobody listens.
    pub fn is_empty(&self) -> bool {
        self.subscribers.is_empty()
    }

    /// Hands `item` to every subscriber (the last one gets it without a copy); forgets
    /// those that have gone and drops those that fell behind.
    pub fn publish(&mut self, item: Feed) {
        let mut item = Some(item);
        let last = self.subscribers.len().saturating_sub(1);
        let mut index = 0;
        self.subscribers.retain(|s| {
            let this = match index == last {
                true => item.take(),
                false => item.clone(),
            };
            index += 1;
            let Some(this) = this else {
                return false;
            };
            match s.queue.try_send(this) {
                Ok(()) => true,
                Err(TrySendError::Full(_)) => {
                    s.lagged.store(true, Ordering::Release);
                    false
                }
                Err(TrySendError::Closed(_)) => false,
            }
        });
    }
}

impl Subscription {
    /// The next item; after the last, why there are no more.
    pub async fn recv(&mut self) -> Result<Feed, FeedEnd> {
        match self.queue.recv().await {
            Some(item) => Ok(item),
            None if self.lagged.load(Ordering::Acquire) => Err(FeedEnd::Lagged),
            None => Err(FeedEnd::Closed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn started(generation: u64) -> Feed {
        Feed::Started { generation }
    }

    fn generation(item: &Feed) -> u64 {
        match item {
            Feed::Started { generation } => *generation,
            other => panic!("unexpected {other:?}"),
        }
    }

    #[tokio::test]
    async fn every_subscriber_gets_every_item_in_order() {
        let mut subs = Subscribers::default();
        let mut a = subs.subscribe();
        let mut b = subs.subscribe();
        for g in 1..=3 {
            subs.publish(started(g));
        }
        drop(subs);
        for sub in [&mut a, &mut b] {
            for g in 1..=3 {
                assert_eq!(generation(&sub.recv().await.expect("item")), g);
            }
            assert_eq!(sub.recv().await.err(), Some(FeedEnd::Closed));
        }
    }

    #[tokio::test]
    async fn a_subscriber_sees_only_what_comes_after_it_subscribed() {
        let mut subs = Subscribers::default();
        subs.publish(started(1));
        let mut late = subs.subscribe();
        subs.publish(started(2));
        assert_eq!(generation(&late.recv().await.expect("item")), 2);
    }

    #[tokio::test]
    async fn a_subscriber_that_falls_behind_reads_what_it_had_then_learns_why() {
        let mut subs = Subscribers::default();
        let mut slow = subs.subscribe();
        let mut prompt = subs.subscribe();
        let total = FEED_CAPACITY as u64 + 5;
        let mut prompt_seen = 0;
        for g in 0..total {
            subs.publish(started(g));
            assert_eq!(generation(&prompt.recv().await.expect("item")), g);
            prompt_seen += 1;
        }
        assert_eq!(prompt_seen, total);
        for g in 0..FEED_CAPACITY as u64 {
            assert_eq!(generation(&slow.recv().await.expect("item")), g);
        }
        assert_eq!(slow.recv().await.err(), Some(FeedEnd::Lagged));
        // The prompt one is still subscribed.
        subs.publish(started(total));
        assert_eq!(generation(&prompt.recv().await.expect("item")), total);
        assert_eq!(subs.subscribers.len(), 1);
    }

    #[tokio::test]
    async fn a_subscriber_that_went_away_is_forgotten() {
        let mut subs = Subscribers::default();
        let gone = subs.subscribe();
        drop(gone);
        subs.publish(started(1));
        assert!(subs.is_empty());
    }
}
