//! Rows out of the kiosk for a spreadsheet: RFC 4180 CSV on standard output with every text
//! cell defused against formulas. Used by the `export` commands and the residents' export;
//! it knows nothing of the command line.

/// RFC 4180: CRLF line ends, a header row (also when there are no rows), fields quoted when
/// needed. `header` names the rows' fields in order. Text cells are defused against
/// spreadsheet formulas ([`csv_cells`]); numbers stay numbers.
pub fn write_csv<T: serde::Serialize>(header: &[&str], rows: &[T]) -> Result<(), String> {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .has_headers(false)
        .from_writer(std::io::stdout().lock());
    w.write_record(header).map_err(|e| e.to_string())?;
    for row in rows {
        w.write_record(csv_cells(header, row)?)
            .map_err(|e| e.to_string())?;
    }
    w.flush().map_err(|e| e.to_string())
}

/// One row's CSV cells, in the order of `header` (the row's field names). The kind of each
/// cell is the value's own type, not a guess from the column's name: a number (a refund's
/// negative amount included) is written as it is; a text cell that starts with `=`, `+`, `-`,
/// `@`, a tab or a carriage return gets a leading apostrophe, so a spreadsheet shows a
/// product or building named `=HYPERLINK(...)` or `-5 kg` as text instead of running it as a
/// formula. Empty options are empty cells; booleans are `true`/`false`. JSON exports do not
/// go through here and keep the text as stored.
pub fn csv_cells<T: serde::Serialize>(header: &[&str], row: &T) -> Result<Vec<String>, String> {
    use serde_json::Value;
    let Value::Object(mut fields) = serde_json::to_value(row).map_err(|e| e.to_string())? else {
        return Err("an export row is not a record".into());
    };
    if fields.len() != header.len() {
        return Err(format!(
            "an export row has {} fields for {} columns",
            fields.len(),
            header.len()
        ));
    }
    header
        .iter()
        .map(|column| match fields.remove(*column) {
            Some(Value::String(text)) => Ok(defuse_formula(text)),
            Some(Value::Number(n)) => Ok(n.to_string()),
            Some(Value::Bool(b)) => Ok(b.to_string()),
            Some(Value::Null) => Ok(String::new()),
            Some(_) => Err(format!("column {column}: not a single value")),
            None => Err(format!("column {column}: not in the row")),
        })
        .collect()
}

fn defuse_formula(text: String) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text
    }
}

#[cfg(test)]
mod csv_tests {
    use super::*;

    #[derive(serde::Serialize)]
    struct Row {
        label: String,
        building: Option<String>,
        amount_cents: i64,
        weight_g: Option<i64>,
        manual: bool,
    }

    const HEADER: &[&str] = &["label", "building", "amount_cents", "weight_g", "manual"];

    fn cells(label: &str, building: Option<&str>, amount_cents: i64) -> Vec<String> {
        let row = Row {
            label: label.into(),
            building: building.map(Into::into),
            amount_cents,
            weight_g: None,
            manual: false,
        };
        csv_cells(HEADER, &row).unwrap()
    }

    #[test]
    fn text_that_a_spreadsheet_would_run_gets_an_apostrophe_and_numbers_stay() {
        assert_eq!(
            cells("=HYPERLINK(\"http://x\",\"y\")", Some("-5 kg"), -450),
            [
                "'=HYPERLINK(\"http://x\",\"y\")",
                "'-5 kg",
                "-450",
                "",
                "false"
            ]
        );
        for (text, want) in [
            ("+33 6", "'+33 6"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("Tomates", "Tomates"),
            ("a=b", "a=b"),
            ("", ""),
        ] {
            assert_eq!(cells(text, None, 0)[0], want, "{text:?}");
        }
        assert_eq!(cells("x", None, -5)[2], "-5");
    }

    #[test]
    fn a_header_that_does_not_match_the_row_is_an_error() {
        let row = Row {
            label: "x".into(),
            building: None,
            amount_cents: 1,
            weight_g: None,
            manual: true,
        };
        assert!(csv_cells(&["label"], &row).is_err());
        assert!(csv_cells(&["label", "building", "amount", "weight_g", "manual"], &row).is_err());
    }
}
