#![no_main]
use comptoir_hardware::printer::decode::{EscPosDecoder, Event};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut d = EscPosDecoder::new();
    let mut events = d.push(data);
    events.extend(d.flush().map(Event::Job));
    for e in events {
        if let Event::Job(job) = e {
            let _ = job.text();
        }
    }
});
