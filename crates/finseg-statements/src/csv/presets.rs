//! The built-in column mappings: the export layouts of German banks, each
//! described from the bank's own export (and the open-source importers
//! that read it), and finseg's own plain layout.

use super::{Column, Columns, Mapping};

fn name(s: &str) -> Option<Column> {
    Some(Column::Name(s.into()))
}

impl Mapping {
    /// The names of the built-in presets.
    pub const PRESETS: [&'static str; 12] = [
        "sparkasse",
        "dkb",
        "ing",
        "commerzbank",
        "deutsche-bank",
        "postbank",
        "comdirect",
        "vr",
        "n26",
        "hypovereinsbank",
        "consorsbank",
        "finseg",
    ];

    // Over 120 lines on purpose: the table of the built-in banks' presets.
    /// A built-in preset by name (see [`Mapping::PRESETS`]).
    pub fn preset(preset: &str) -> Option<Mapping> {
        let german = |columns: Columns, date_format: &str, encoding: Option<&str>| Mapping {
            delimiter: ';',
            decimal: ',',
            thousands: Some('.'),
            date_format: date_format.into(),
            encoding: encoding.map(Into::into),
            currency: Some("EUR".into()),
            negate: false,
            pending_values: Vec::new(),
            columns,
        };
        Some(match preset {
            // Sparkasse "CSV-CAMT V2" export.
            "sparkasse" => {
                let mut m = german(
                    Columns {
                        booking_date: name("Buchungstag"),
                        value_date: name("Valutadatum"),
                        amount: name("Betrag"),
                        currency: name("Waehrung"),
                        purpose: vec![Column::Name("Verwendungszweck".into())],
                        counterpart_name: name("Beguenstigter/Zahlungspflichtiger"),
                        counterpart_iban: name("Kontonummer/IBAN"),
                        counterpart_bic: name("BIC (SWIFT-Code)"),
                        creditor_id: name("Glaeubiger ID"),
                        mandate_reference: name("Mandatsreferenz"),
                        end_to_end_reference: name("Kundenreferenz (End-to-End)"),
                        posting_text: name("Buchungstext"),
                        status: name("Info"),
                        ..Columns::default()
                    },
                    "DD.MM.YY",
                    Some("windows-1252"),
                );
                m.pending_values = vec!["Umsatz vorgemerkt".into()];
                m
            }
            // DKB export since 2023.
            "dkb" => {
                let mut m = german(
                    Columns {
                        booking_date: name("Buchungsdatum"),
                        value_date: name("Wertstellung"),
                        amount: name("Betrag (€)"),
                        purpose: vec![Column::Name("Verwendungszweck".into())],
                        payer_name: name("Zahlungspflichtige*r"),
                        payee_name: name("Zahlungsempfänger*in"),
                        counterpart_iban: name("IBAN"),
                        creditor_id: name("Gläubiger-ID"),
                        mandate_reference: name("Mandatsreferenz"),
                        end_to_end_reference: name("Kundenreferenz"),
                        posting_text: name("Umsatztyp"),
                        status: name("Status"),
                        ..Columns::default()
                    },
                    "DD.MM.YY",
                    Some("utf-8"),
                );
                m.pending_values = vec!["Vorgemerkt".into()];
                m
            }
            "ing" => german(
                Columns {
                    booking_date: name("Buchung"),
                    value_date: name("Wertstellungsdatum"),
                    amount: name("Betrag"),
                    currency: Some(Column::Position(9)),
                    purpose: vec![Column::Name("Verwendungszweck".into())],
                    counterpart_name: name("Auftraggeber/Empfänger"),
                    posting_text: name("Buchungstext"),
                    balance: name("Saldo"),
                    ..Columns::default()
                },
                "DD.MM.YYYY",
                Some("windows-1252"),
            ),
            "commerzbank" => german(
                Columns {
                    booking_date: name("Buchungstag"),
                    value_date: name("Wertstellung"),
                    amount: name("Betrag"),
                    currency: name("Währung"),
                    purpose: vec![Column::Name("Buchungstext".into())],
                    posting_text: name("Umsatzart"),
                    ..Columns::default()
                },
                "DD.MM.YYYY",
                None,
            ),
            "deutsche-bank" => german(
                Columns {
                    booking_date: name("Buchungstag"),
                    value_date: name("Wert"),
                    debit: name("Soll"),
                    credit: name("Haben"),
                    currency: name("Währung"),
                    purpose: vec![Column::Name("Verwendungszweck".into())],
                    counterpart_name: name("Begünstigter / Auftraggeber"),
                    counterpart_iban: name("IBAN"),
                    counterpart_bic: name("BIC"),
                    creditor_id: name("Gläubiger ID"),
                    mandate_reference: name("Mandatsreferenz"),
                    end_to_end_reference: name("Kundenreferenz"),
                    posting_text: name("Umsatzart"),
                    ..Columns::default()
                },
                "DD.MM.YYYY",
                Some("windows-1252"),
            ),
            // Deutsche Bank, Postbank and norisbank share one platform since
            // 2023: a signed amount (and the same split into Soll/Haben),
            // days and months without leading zeros.
            "postbank" => german(
                Columns {
                    booking_date: name("Buchungstag"),
                    value_date: name("Wert"),
                    amount: name("Betrag"),
                    currency: name("Währung"),
                    purpose: vec![Column::Name("Verwendungszweck".into())],
                    counterpart_name: name("Begünstigter / Auftraggeber"),
                    counterpart_iban: name("IBAN / Kontonummer"),
                    counterpart_bic: name("BIC"),
                    creditor_id: name("Gläubiger ID"),
                    mandate_reference: name("Mandatsreferenz"),
                    end_to_end_reference: name("Kundenreferenz"),
                    posting_text: name("Umsatzart"),
                    ..Columns::default()
                },
                "DD.MM.YYYY",
                Some("utf-8"),
            ),
            // comdirect "Umsätze Girokonto": the counterpart and purpose are
            // one text; open items have "offen" as their booking day.
            "comdirect" => {
                let mut m = german(
                    Columns {
                        booking_date: name("Buchungstag"),
                        value_date: name("Wertstellung (Valuta)"),
                        amount: name("Umsatz in EUR"),
                        purpose: vec![Column::Name("Buchungstext".into())],
                        posting_text: name("Vorgang"),
                        ..Columns::default()
                    },
                    "DD.MM.YYYY",
                    Some("windows-1252"),
                );
                m.pending_values = vec!["offen".into()];
                m
            }
            // Volksbanken Raiffeisenbanken (Atruvia online banking since
            // about 2020; GLS Bank and Sparda-Bank West export the same).
            "vr" => german(
                Columns {
                    booking_date: name("Buchungstag"),
                    value_date: name("Valutadatum"),
                    amount: name("Betrag"),
                    currency: name("Waehrung"),
                    purpose: vec![Column::Name("Verwendungszweck".into())],
                    counterpart_name: name("Name Zahlungsbeteiligter"),
                    counterpart_iban: name("IBAN Zahlungsbeteiligter"),
                    counterpart_bic: name("BIC (SWIFT-Code) Zahlungsbeteiligter"),
                    creditor_id: name("Glaeubiger ID"),
                    mandate_reference: name("Mandatsreferenz"),
                    posting_text: name("Buchungstext"),
                    balance: name("Saldo nach Buchung"),
                    ..Columns::default()
                },
                "DD.MM.YYYY",
                Some("utf-8"),
            ),
            // N26: comma-separated, ISO dates, a decimal point.
            "n26" => Mapping {
                delimiter: ',',
                decimal: '.',
                thousands: None,
                date_format: "YYYY-MM-DD".into(),
                encoding: Some("utf-8".into()),
                currency: Some("EUR".into()),
                negate: false,
                pending_values: Vec::new(),
                columns: Columns {
                    booking_date: name("Booking Date"),
                    value_date: name("Value Date"),
                    amount: name("Amount (EUR)"),
                    purpose: vec![Column::Name("Payment Reference".into())],
                    counterpart_name: name("Partner Name"),
                    counterpart_iban: name("Partner Iban"),
                    posting_text: name("Type"),
                    ..Columns::default()
                },
            },
            "hypovereinsbank" => german(
                Columns {
                    booking_date: name("Buchungsdatum"),
                    value_date: name("Valuta"),
                    amount: name("Betrag"),
                    currency: name("Waehrung"),
                    purpose: vec![Column::Name("Verwendungszweck".into())],
                    counterpart_name: name("Empfaenger 1"),
                    ..Columns::default()
                },
                "DD.MM.YYYY",
                Some("iso-8859-1"),
            ),
            // Consorsbank "Umsätze" export (Windows-1252): one name column
            // for sender and recipient, the amount in EUR.
            "consorsbank" => german(
                Columns {
                    booking_date: name("Buchung"),
                    value_date: name("Valuta"),
                    amount: name("Betrag in EUR"),
                    purpose: vec![Column::Name("Verwendungszweck".into())],
                    counterpart_name: name("Sender / Empfänger"),
                    counterpart_iban: name("IBAN / Konto-Nr."),
                    counterpart_bic: name("BIC / BLZ"),
                    posting_text: name("Buchungstext"),
                    ..Columns::default()
                },
                "DD.MM.YYYY",
                Some("windows-1252"),
            ),
            // finseg's own plain layout, comma-separated, ISO dates.
            "finseg" => Mapping {
                delimiter: ',',
                decimal: '.',
                thousands: None,
                date_format: "YYYY-MM-DD".into(),
                encoding: Some("utf-8".into()),
                currency: None,
                negate: false,
                pending_values: Vec::new(),
                columns: Columns {
                    booking_date: name("bookingDate"),
                    value_date: name("valueDate"),
                    amount: name("amount"),
                    currency: name("currency"),
                    purpose: vec![Column::Name("purpose".into())],
                    counterpart_name: name("counterpartName"),
                    counterpart_iban: name("counterpartIban"),
                    counterpart_bic: name("counterpartBic"),
                    creditor_id: name("creditorId"),
                    mandate_reference: name("mandateReference"),
                    end_to_end_reference: name("endToEndReference"),
                    bank_transaction_code: name("bankTransactionCode"),
                    ..Columns::default()
                },
            },
            _ => return None,
        })
    }
}
