//! Memory is spent on bytes that arrived, never on lengths a peer announced.
//!
//! This binary counts allocations: the global allocator records the largest single request
//! made by each thread, and each test runs on its own thread.

mod support;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use podsup_wire::frame::{read_frame, read_frame_blocking};
use podsup_wire::{
    Event, FrameDecoder, FrameError, MAX_FRAME_LEN, PodToRoot, decode_body, encode_frame,
};

/// Forwards to the system allocator, recording the largest request per thread.
struct Measuring;

thread_local! {
    static LARGEST: Cell<usize> = const { Cell::new(0) };
}

fn note(size: usize) {
    let recorded = LARGEST.try_with(|largest| largest.set(largest.get().max(size)));
    if let Err(_torn_down) = recorded {
        // The thread is exiting: no test is measuring it.
    }
}

// SAFETY: every call is forwarded unchanged to `System`; recording touches no allocation.
unsafe impl GlobalAlloc for Measuring {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        // SAFETY: the caller's contract for `alloc` is passed on unchanged.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        // SAFETY: as above.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note(new_size);
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Measuring = Measuring;

/// The largest single allocation `f` made on this thread.
fn largest_allocation<R>(f: impl FnOnce() -> R) -> (R, usize) {
    LARGEST.with(|largest| largest.set(0));
    let result = f();
    (result, LARGEST.with(Cell::get))
}

#[test]
fn oversize_prefix_is_refused_with_only_the_prefix_buffered() {
    let mut decoder = FrameDecoder::new();
    let (result, largest) = largest_allocation(|| {
        decoder.push(&u32::MAX.to_le_bytes());
        decoder.next::<PodToRoot>()
    });
    assert!(matches!(
        result,
        Err(FrameError::Oversize { len: 0xFFFF_FFFF })
    ));
    assert_eq!(decoder.pending(), 4);
    assert!(largest <= 64, "allocated {largest} bytes");
}

#[test]
fn decoder_buffers_what_arrived_not_what_was_announced() {
    let mut decoder = FrameDecoder::new();
    let (result, largest) = largest_allocation(|| {
        decoder.push(&(MAX_FRAME_LEN as u32).to_le_bytes());
        decoder.push(&[0; 100]);
        decoder.next::<PodToRoot>()
    });
    assert!(matches!(result, Ok(None)));
    assert!(largest <= 1024, "allocated {largest} bytes");
}

#[test]
fn blocking_reader_grows_with_the_body_that_arrives() {
    let mut bytes = (MAX_FRAME_LEN as u32).to_le_bytes().to_vec();
    bytes.extend_from_slice(&[0; 100]);
    let (result, largest) =
        largest_allocation(|| read_frame_blocking::<PodToRoot, _>(&mut &bytes[..]));
    assert!(matches!(
        result,
        Err(FrameError::Truncated { got: 104, .. })
    ));
    assert!(largest <= 64 * 1024, "allocated {largest} bytes");
}

#[test]
fn async_reader_grows_with_the_body_that_arrives() {
    let mut bytes = (MAX_FRAME_LEN as u32).to_le_bytes().to_vec();
    bytes.extend_from_slice(&[0; 100]);
    // Start the runtime before measuring.
    support::block_on(async {});
    let (result, largest) =
        largest_allocation(|| support::block_on(read_frame::<PodToRoot, _>(&mut &bytes[..])));
    assert!(matches!(
        result,
        Err(FrameError::Truncated { got: 104, .. })
    ));
    assert!(largest <= 64 * 1024, "allocated {largest} bytes");
}

/// A string length inside a tiny body that claims a terabyte is refused before allocating.
#[test]
fn lying_length_inside_a_body_is_refused() {
    // PodToRoot::Event (2), Event::TextDelta (9), length 2^40 as 0xFD + u64 LE.
    let mut body = vec![2, 9, 0xFD];
    body.extend_from_slice(&(1u64 << 40).to_le_bytes());
    let (result, largest) = largest_allocation(|| decode_body::<PodToRoot>(&body));
    assert!(matches!(result, Err(FrameError::Decode(_))));
    assert!(largest <= 1024, "allocated {largest} bytes");
}

#[test]
fn refusing_an_over_limit_message_copies_nothing() {
    let msg = PodToRoot::Event(Event::TextDelta {
        text: "x".repeat(MAX_FRAME_LEN * 2),
    });
    let (result, largest) = largest_allocation(|| encode_frame(&msg));
    assert!(matches!(result, Err(FrameError::Oversize { .. })));
    assert!(largest <= 1024, "allocated {largest} bytes");
}
