//! Weekly hours, as written in the config (`[compost] only_hours`): `"Mon-Fri 08:00-12:00"`,
//! `"Sat 14:00-18:00"`, `"Mon,Wed,Fri 17:30-19:00"`, `"Sun 09:00-24:00"`. Errors are English
//! sentences for the config's error message.
//!
//! Days are English three-letter names (any case), one, a range in week order (`Mon-Fri`,
//! `Sat-Sun`) or a list of both separated by commas; times are `HH:MM` in local time, the
//! start included, the end excluded, `24:00` for midnight at the end of the day. A window does
//! not run over midnight: write two (`Fri 20:00-24:00`, `Sat 00:00-02:00`).
//!
//! A local time is given as the day of the week (0 Monday ... 6 Sunday) and the minute of the
//! day, so this stays free of any date library.

/// One weekly window: some days, from a time to a later time of the same day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HoursWindow {
    /// Bit 0 Monday ... bit 6 Sunday.
    days: u8,
    /// Minutes after midnight, `start < end <= 1440`.
    start_min: u16,
    end_min: u16,
}

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

fn day_index(name: &str) -> Result<usize, String> {
    let lower = name.trim().to_ascii_lowercase();
    DAYS.iter()
        .position(|d| *d == lower)
        .ok_or_else(|| format!("unknown day {name:?}: Mon, Tue, Wed, Thu, Fri, Sat or Sun"))
}

fn minutes(text: &str) -> Result<u16, String> {
    let bad = || format!("{text:?} is not a time: HH:MM, from 00:00 to 24:00");
    let (h, m) = text.split_once(':').ok_or_else(bad)?;
    if h.len() != 2 || m.len() != 2 {
        return Err(bad());
    }
    let h: u16 = h.parse().map_err(|_| bad())?;
    let m: u16 = m.parse().map_err(|_| bad())?;
    if m > 59 || h > 24 || (h == 24 && m != 0) {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

impl HoursWindow {
    /// Reads `"Mon-Fri 08:00-12:00"`; the error says what is wrong, for the config's message.
    pub fn parse(text: &str) -> Result<HoursWindow, String> {
        let mut parts = text.split_whitespace();
        let (Some(days_text), Some(times), None) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(format!(
                "{text:?}: days then hours, e.g. \"Mon-Fri 08:00-12:00\""
            ));
        };
        let mut days = 0u8;
        for item in days_text.split(',') {
            match item.split_once('-') {
                Some((from, to)) => {
                    let (from, to) = (day_index(from)?, day_index(to)?);
                    if from > to {
                        return Err(format!(
                            "{item:?}: a range of days runs from Monday to Sunday (write \
                             \"Sat-Sun,Mon\")"
                        ));
                    }
                    for d in from..=to {
                        days |= 1 << d;
                    }
                }
                None => days |= 1 << day_index(item)?,
            }
        }
        let (start, end) = times
            .split_once('-')
            .ok_or_else(|| format!("{times:?}: hours as HH:MM-HH:MM, e.g. 08:00-12:00"))?;
        let (start_min, end_min) = (minutes(start)?, minutes(end)?);
        if start_min >= 1440 {
            return Err(format!("{times:?}: a window starts before 24:00"));
        }
        if end_min <= start_min {
            return Err(format!(
                "{times:?}: ends before it starts (over midnight, write two windows: \
                 \"Fri 20:00-24:00\" and \"Sat 00:00-02:00\")"
            ));
        }
        Ok(HoursWindow {
            days,
            start_min,
            end_min,
        })
    }

    /// Is the local time `minute` (after midnight) of `weekday` (0 Monday ... 6 Sunday) inside
    /// this window?
    pub fn contains(&self, weekday: u32, minute: u32) -> bool {
        weekday < 7
            && self.days & (1 << weekday) != 0
            && u32::from(self.start_min) <= minute
            && minute < u32::from(self.end_min)
    }
}

/// Is the local time `minute` of `weekday` (0 Monday) inside any of `windows`?
pub fn within(windows: &[HoursWindow], weekday: u32, minute: u32) -> bool {
    windows.iter().any(|w| w.contains(weekday, minute))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Day `day` of June 2026 (the 15th is a Monday), at `h:m`.
    fn at(day: u32, h: u32, m: u32) -> (u32, u32) {
        ((day + 7 - 15) % 7, h * 60 + m)
    }

    fn contains(w: &HoursWindow, (d, m): (u32, u32)) -> bool {
        w.contains(d, m)
    }

    #[test]
    fn days_and_hours_are_read() {
        let w = HoursWindow::parse("Mon-Fri 08:00-12:00").unwrap();
        assert!(contains(&w, at(15, 8, 0)), "the start is in");
        assert!(contains(&w, at(19, 11, 59)), "Friday");
        assert!(!contains(&w, at(15, 12, 0)), "the end is out");
        assert!(!contains(&w, at(15, 7, 59)));
        assert!(!contains(&w, at(20, 9, 0)), "Saturday");
        let w = HoursWindow::parse("sat,SUN,wed 14:30-24:00").unwrap();
        assert!(contains(&w, at(20, 23, 59)));
        assert!(contains(&w, at(17, 14, 30)));
        assert!(!contains(&w, at(16, 15, 0)), "Tuesday");
        assert!(contains(&w, at(21, 15, 0)) && !contains(&w, at(15, 15, 0)));
        let w = HoursWindow::parse("  Tue   00:00-01:00 ").unwrap();
        assert!(contains(&w, at(16, 0, 0)));
        let all = [
            HoursWindow::parse("Mon 08:00-09:00").unwrap(),
            HoursWindow::parse("Mon 17:00-18:00").unwrap(),
        ];
        assert!(within(&all, 0, 17 * 60 + 30));
        assert!(!within(&all, 0, 12 * 60));
        assert!(!within(&[], 0, 12 * 60));
        assert!(!w.contains(7, 0), "no eighth day");
    }

    #[test]
    fn bad_windows_say_why() {
        for (text, says) in [
            ("", "days then hours"),
            ("Mon-Fri", "days then hours"),
            ("Mon-Fri 08:00-12:00 extra", "days then hours"),
            ("Lun 08:00-12:00", "unknown day"),
            ("Monday 08:00-12:00", "unknown day"),
            ("Fri-Mon 08:00-12:00", "Monday to Sunday"),
            ("Mon, 08:00-12:00", "unknown day"),
            ("Mon 8:00-12:00", "not a time"),
            ("Mon 08:00", "HH:MM-HH:MM"),
            ("Mon 08:60-12:00", "not a time"),
            ("Mon 25:00-26:00", "not a time"),
            ("Mon 24:30-24:45", "not a time"),
            ("Mon 12:00-08:00", "ends before it starts"),
            ("Mon 12:00-12:00", "ends before it starts"),
            ("Mon 24:00-24:00", "before 24:00"),
            ("Mon,,Tue 08:00-09:00", "unknown day"),
        ] {
            let e = HoursWindow::parse(text).unwrap_err();
            assert!(e.contains(says), "{text:?}: {e}");
        }
    }
}
