use super::*;
use crate::normalise::folded;

/// `normalise` as first written, a character at a time: the reference.
fn normalise_by_char(text: &str) -> String {
    let mut out = String::from(" ");
    let mut space = true;
    for c in text.chars() {
        let folded = folded(c);
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
            space = false;
        } else if !folded.is_empty() {
            out.push_str(folded);
            space = false;
        } else if c.is_alphanumeric() {
            out.extend(c.to_lowercase());
            space = false;
        } else if !space {
            out.push(' ');
            space = true;
        }
    }
    if !space {
        out.push(' ');
    }
    out
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(5000))]
    #[test]
    fn normalising_by_bytes_is_normalising_by_characters(
        text in "[a-zA-Z0-9 ./:,&'-]{0,12}(\\PC{0,6}[äöüÄÖÜßéèÉàçêłøñŁæ]?[a-z ]{0,8}){0,4}",
        prefix in "[ -~]{0,40}",
    ) {
        let text = format!("{prefix}{text}");
        let mut out = String::from("kept");
        normalise(&text, &mut out);
        proptest::prop_assert_eq!(out, format!("kept{}", normalise_by_char(&text)));
    }
}

fn names(set: LabelSet) -> Vec<&'static str> {
    set.iter().map(|l| l.name()).collect()
}

fn label(rules: &RuleSet, amount: i64, counterpart: &str, purpose: &str) -> Vec<&'static str> {
    let s = Signals {
        amount: Amount::from_cents(amount),
        counterpart_name: Some(counterpart),
        purpose: Some(purpose),
        ..Signals::default()
    };
    names(rules.label(&s, &mut Scratch::default()))
}

/// What the default rules give a transaction, as label names.
fn default_labels(amount: i64, counterpart: &str, purpose: &str) -> Vec<&'static str> {
    label(RuleSet::default_rules(), amount, counterpart, purpose)
}

/// Abbreviated insurance words, as insurers and banks print them,
/// name their line: a shortened word with "Vers.", and the
/// abbreviations of the trade.
#[test]
fn abbreviations_name_the_line_of_insurance() {
    for (purpose, expected) in [
        ("Privathaftpfl.-Vers. Beitrag 2027", "LIABILITYINSURANCE"),
        ("PHV Jahresbeitrag", "LIABILITYINSURANCE"),
        ("Wohngeb.-Vers. Police 4711-22", "BUILDINGINSURANCE"),
        ("VGV Beitrag 01/2027", "BUILDINGINSURANCE"),
        ("BU-Rente Vertrag 99812", "DISABILITYINSURANCE"),
        ("BUZ 2027 Beitrag", "DISABILITYINSURANCE"),
        ("ZZV Tarif Premium", "DENTALINSURANCE"),
        ("RLV 55120 Folgebeitrag", "LIFEINSURANCE"),
        ("Kraftf.-Vers. VS-Nr 10023", "CARINSURANCE"),
        ("Rechtss.-Vers. 2027/28", "LEGALINSURANCE"),
        ("Unfallvers. Kinder", "ACCIDENTINSURANCE"),
    ] {
        assert_eq!(default_labels(-30_00, "", purpose), [expected], "{purpose}");
    }
}

/// A compound keeps its most specific line (an animal's health cover
/// is pet insurance, a travel health cover travel insurance, a motor
/// liability cover car insurance; an animal owner's liability cover
/// stays liability), whether it is written as one word or hyphenated,
/// and the counterpart's legal name counts as text.
#[test]
fn compounds_keep_their_most_specific_line() {
    for (counterpart, purpose, expected) in [
        ("", "Pferde-OP-Versicherung 2027", "PETINSURANCE"),
        ("", "Hundekrankenvers. Beitrag", "PETINSURANCE"),
        (
            "Muster Tierversicherung AG",
            "Krankenschutz Bello 07/2027",
            "PETINSURANCE",
        ),
        (
            "",
            "Auslandsreise-Krankenversicherung Familie",
            "TRAVELINSURANCE",
        ),
        ("", "Kfz-Haftpflicht-Vers. M-AB 123", "CARINSURANCE"),
        ("", "Tierhalterhaftpflicht Beitrag", "LIABILITYINSURANCE"),
        ("", "Zahn-Zusatzversicherung Tarif ZE", "DENTALINSURANCE"),
        (
            "Beispiel Rechtsschutzversicherung AG",
            "Beitrag 2027",
            "LEGALINSURANCE",
        ),
        (
            "Beispiel Lebensversicherung a.G.",
            "Vertrag 123456",
            "LIFEINSURANCE",
        ),
    ] {
        assert_eq!(
            default_labels(-25_00, counterpart, purpose),
            [expected],
            "{counterpart} | {purpose}"
        );
    }
}

/// Words that contain an insurance part without being insurance, and
/// insurers' names that are also places or common words, do not make
/// a payment an insurance premium.
#[test]
fn false_friends_are_no_insurance() {
    for (counterpart, purpose) in [
        ("Bio Markt", "Lebensmittel Einkauf"),
        ("Dr. Weber", "Zahnarztrechnung Behandlung"),
        ("Klinikum", "Krankenhausaufenthalt Zuzahlung"),
        ("Tierklinik Nord", "Behandlung Hund"),
        ("Kiosk Zurich", "Kartenzahlung CHF 12.00"),
        ("Stadtwerke", "Versorgung Abschlag Fahrzeug-Ladestrom"),
    ] {
        let got = default_labels(-40_00, counterpart, purpose);
        assert!(
            !got.iter().any(|l| l.ends_with("INSURANCE")),
            "{counterpart} | {purpose}: {got:?}"
        );
    }
}

/// Income that is no salary: a company paying an invoice or fee to a
/// freelancer, a fee paid by anyone, a supplier payment by its SEPA
/// purpose code; a refund of an invoice is none of them.
#[test]
fn freelance_income_is_other_income() {
    for (counterpart, purpose) in [
        ("Beispiel Software GmbH", "Rechnung R-2027-031 Projekt Web"),
        ("Acme Consulting B.V.", "Invoice 2027-15"),
        ("Frau Dr. Koch", "Honorar Vortrag 12.03."),
    ] {
        assert_eq!(
            default_labels(1_250_00, counterpart, purpose),
            ["OTHERINCOME"],
            "{counterpart} | {purpose}"
        );
    }
    let supplier = Signals {
        amount: Amount::from_cents(980_00),
        counterpart_name: Some("Kunde"),
        purpose: Some("2027-88"),
        sepa_purpose_code: Some("SUPP"),
        ..Signals::default()
    };
    assert_eq!(
        names(RuleSet::default_rules().label(&supplier, &mut Scratch::default())),
        ["OTHERINCOME"]
    );
    let refund = default_labels(49_90, "Versandhaus GmbH", "Erstattung Rechnung 5512");
    assert!(!refund.contains(&"OTHERINCOME"), "{refund:?}");
}

/// Words inside an insurer's name say nothing about other categories:
/// a health fund named after an industry or a railway is not energy
/// or transport.
#[test]
fn an_insurers_name_labels_nothing_but_insurance() {
    for counterpart in ["energie-BKK", "BAHN-BKK", "Knappschaft-Bahn-See"] {
        let got = default_labels(-310_00, counterpart, "Beitrag 11/2027");
        assert_eq!(got, ["HEALTHINSURANCE"], "{counterpart}");
    }
    // Outside an insurer's name the same words keep their meaning.
    assert_eq!(
        default_labels(
            -84_00,
            "Stadtwerke Beispielstadt",
            "Energie Abschlag 11/2027"
        ),
        ["ENERGY"]
    );
}

/// A payment is labelled by what it is for, in either direction: money
/// back from an energy supplier is energy, not income; a salary from a
/// utility that employs the holder stays salary.
#[test]
fn refunds_keep_the_label_of_what_they_pay_back() {
    assert_eq!(
        default_labels(
            61_20,
            "Beispiel Energie AG",
            "Guthaben Jahresabrechnung Strom 2027"
        ),
        ["ENERGY"]
    );
    assert_eq!(
        default_labels(2_870_00, "Stadtwerke Beispielstadt GmbH", "Gehalt 11/2027"),
        ["SALARY"]
    );
}

/// Service charges paid to a landlord belong with the rent.
#[test]
fn service_charges_are_rent() {
    for purpose in ["Nebenkosten Whg 3 links", "Betriebskostennachzahlung 2026"] {
        assert_eq!(
            default_labels(-180_00, "H. Vermieter", purpose),
            ["RENT"],
            "{purpose}"
        );
    }
    // An owner's monthly share of the building's costs (Hausgeld to the
    // owners' association) is the owner's housing cost.
    assert_eq!(
        default_labels(-310_00, "WEG Am Markt 5", "Hausgeld 01/2027"),
        ["RENT"]
    );
}

/// A professional partnership (PartG, PartG mbB: lawyers, architects,
/// tax advisers) paying an invoice pays a freelancer's income, as a GmbH
/// does.
#[test]
fn partnerships_paying_invoices_pay_income() {
    for counterpart in [
        "Klein & Partner mbB",
        "Lange Architekten PartG mbB",
        "Ost PartG",
    ] {
        assert_eq!(
            default_labels(1_450_00, counterpart, "Rechnung 2027-014 Gutachten"),
            ["OTHERINCOME"],
            "{counterpart}"
        );
    }
}

/// Statements carry counterparts and purposes in the languages of the
/// customers' employers, authorities and insurers: income, benefits,
/// refunds and insurance lines are known in those words too, and an
/// accent does not hide a word (intérêts, składka).
#[test]
fn other_languages_name_income_and_insurance() {
    for (amount, counterpart, purpose, expected) in [
        (2_100_00, "Exemple SARL", "Salaire mars 2027", "SALARY"),
        (2_100_00, "Voorbeeld BV", "Salaris april 2027", "SALARY"),
        (
            2_100_00,
            "Przyklad Sp. z o.o.",
            "Wynagrodzenie za 03/2027",
            "SALARY",
        ),
        (
            900_00,
            "France Travail",
            "Allocation 03/2027",
            "UNEMPLOYMENTBENEFIT",
        ),
        (900_00, "UWV", "WW-uitkering maart", "UNEMPLOYMENTBENEFIT"),
        (
            310_00,
            "Belastingdienst",
            "Teruggaaf inkomstenbelasting 2026",
            "TAXREFUND",
        ),
        (
            310_00,
            "DGFIP",
            "Remboursement impôt sur le revenu",
            "TAXREFUND",
        ),
        (
            12_40,
            "Banque Exemple",
            "Intérêts créditeurs 2026",
            "CAPITALINCOME",
        ),
        (
            25_00,
            "Caisse Primaire",
            "Remboursement soins CPAM",
            "HEALTHINSURANCE",
        ),
        (
            -41_00,
            "Exemple Assurances",
            "Cotisation assurance habitation 2027",
            "HOUSEHOLDINSURANCE",
        ),
        (
            -41_00,
            "",
            "Assicurazione auto polizza 5531",
            "CARINSURANCE",
        ),
        (
            -41_00,
            "Przyklad TU",
            "Ubezpieczenie mieszkania składka",
            "HOUSEHOLDINSURANCE",
        ),
        (
            -41_00,
            "",
            "Health insurance premium March",
            "HEALTHINSURANCE",
        ),
        (
            -41_00,
            "Exemple Mutuelle",
            "Prélèvement mensuel",
            "HEALTHINSURANCE",
        ),
    ] {
        assert_eq!(
            default_labels(amount, counterpart, purpose),
            [expected],
            "{counterpart} | {purpose}"
        );
    }
    // Income words name income only when it is received.
    assert!(default_labels(-2_100_00, "Exemple SARL", "Salaire mars 2027").is_empty());
}

#[test]
fn normalisation() {
    let mut s = String::new();
    normalise("Kfz-Versicherung  Prämie/Beitrag 01.2026 ÄÖÜ ß", &mut s);
    assert_eq!(s, " kfz versicherung praemie beitrag 01 2026 aeoeue ss ");
    let mut s = String::new();
    normalise("Intérêts Składka Försäkring Ærø", &mut s);
    assert_eq!(s, " interets skladka foersaekring aeroe ");
}

#[test]
fn conditions_and_provenance() {
    let rules = RuleSet::parse(
        "t",
        r#"{"version": "1", "rules": [
            {"id": "sal", "labels": ["SALARY"], "direction": "in", "text": ["gehalt", " lohn "]},
            {"id": "sala", "labels": ["SALARY"], "direction": "in", "sepaPurposeCode": ["SALA"]},
            {"id": "car", "labels": ["CARINSURANCE"], "direction": "out", "insurer": true, "text": [" kfz "]},
            {"id": "ins-other", "labels": ["OTHERINSURANCE"], "direction": "out", "insurer": true, "unlessGroup": "INSURANCE"},
            {"id": "groc", "labels": ["GROCERIES"], "mcc": ["5411", "5499"], "notText": ["tankstelle"]},
            {"id": "big", "labels": ["SAVINGS"], "counterpart": ["sparkasse"], "minAmount": "1000"}
        ]}"#,
    )
    .unwrap();
    assert_eq!(
        label(&rules, 300_000, "ACME GmbH", "Gehalt November"),
        vec!["SALARY"]
    );
    assert_eq!(
        label(&rules, 300_000, "ACME GmbH", "LOHN 11/2026"),
        vec!["SALARY"]
    );
    // " lohn " is a word: not inside "Lohnsteuer".
    assert!(label(&rules, 300_000, "Finanzamt", "Lohnsteuer").is_empty());
    assert!(label(&rules, -300_000, "ACME GmbH", "Gehalt zurueck").is_empty());
    assert_eq!(
        label(&rules, -4590, "HUK-COBURG", "Kfz-Versicherung 123"),
        vec!["CARINSURANCE"]
    );
    assert_eq!(
        label(&rules, -1200, "HUK-COBURG", "Beitrag"),
        vec!["OTHERINSURANCE"]
    );
    assert!(label(&rules, -1200, "Fahrradladen", "Kfz Zubehoer").is_empty());
    // "sparkasse" must be in the counterpart, not in the purpose.
    assert_eq!(
        label(&rules, -200_000, "Sparkasse Koeln", "Uebertrag"),
        vec!["SAVINGS"]
    );
    assert!(label(&rules, -200_000, "Max", "an Sparkasse").is_empty());
    assert!(label(&rules, -50_000, "Sparkasse Koeln", "Uebertrag").is_empty());

    let mut scratch = Scratch::default();
    let s = Signals {
        amount: Amount::from_cents(-900),
        mcc: Some(5411),
        counterpart_name: Some("REWE"),
        ..Signals::default()
    };
    assert_eq!(names(rules.label(&s, &mut scratch)), vec!["GROCERIES"]);
    assert_eq!(
        rules.provenance(&scratch),
        vec![Provenance {
            label: Label::parse("GROCERIES").unwrap(),
            rule: "t/groc@1".into()
        }]
    );
    let tankstelle = Signals {
        purpose: Some("ARAL Tankstelle"),
        ..s
    };
    assert!(
        rules
            .label(&tankstelle, &mut scratch)
            .iter()
            .next()
            .is_none()
    );
    // What one call marked does not linger in the scratch.
    assert_eq!(names(rules.label(&s, &mut scratch)), vec!["GROCERIES"]);
}

/// Insurers taken from an outside directory (datenanfragen/data) are
/// known by their legal names, and a specialist gives its line.
#[test]
fn insurers_of_the_outside_directory_are_known() {
    for (counterpart, purpose, expected) in [
        (
            "WERTGARANTIE SE",
            "Beitrag Vertrag 123456",
            "OTHERINSURANCE",
        ),
        (
            "Proxalto Lebensversicherung AG",
            "Beitrag 4711",
            "LIFEINSURANCE",
        ),
        (
            "Envivas Krankenversicherung AG",
            "Beitrag 12/2026",
            "HEALTHINSURANCE",
        ),
    ] {
        assert_eq!(
            default_labels(-20_00, counterpart, purpose),
            vec![expected],
            "{counterpart} | {purpose}"
        );
    }
}

/// Fallbacks that guess (insurance of no named type, income from an
/// invoice) are marked weak; rules with specific evidence are not.
#[test]
fn guessing_rules_are_weak() {
    let rules = RuleSet::default_rules();
    let r = |id: &str| format!("default/{id}@{}", rules.version);
    assert!(rules.is_weak(&r("insurance-word-fallback")));
    assert!(rules.is_weak(&r("income-invoice-from-company")));
    assert!(!rules.is_weak(&r("salary-text")));
    assert!(!rules.is_weak(&r("income-purpose-code")));
    let mut scratch = Scratch::default();
    let s = Signals {
        amount: Amount::from_cents(-30_00),
        purpose: Some("Versicherungsbeitrag 2026"),
        counterpart_name: Some("Unbekannte Assekuranz"),
        ..Signals::default()
    };
    let (set, provenance) = Labeller::default().apply(&s, &mut scratch);
    assert_eq!(
        set.iter().map(|l| l.name()).collect::<Vec<_>>(),
        ["OTHERINSURANCE"]
    );
    let rule = provenance.unwrap();
    assert!(rules.is_weak(rule.split_once('=').unwrap().1), "{rule}");
}

#[test]
fn provenance_texts_are_shared_per_rule_set_and_combination() {
    let parse = |version: &str| {
        std::sync::Arc::new(
            RuleSet::parse(
                "t",
                &format!(
                    r#"{{"version": "{version}", "rules": [
                        {{"id": "sal", "labels": ["SALARY"], "direction": "in", "text": ["gehalt"]}},
                        {{"id": "groc", "labels": ["GROCERIES"], "mcc": ["5411"]}}
                    ]}}"#
                ),
            )
            .unwrap(),
        )
    };
    let salary = Signals {
        amount: Amount::from_cents(300_000),
        purpose: Some("Gehalt November"),
        ..Signals::default()
    };
    let groceries = Signals {
        amount: Amount::from_cents(-900),
        mcc: Some(5411),
        ..Signals::default()
    };
    let mut scratch = Scratch::default();
    let first = Labeller::new(Some(parse("1")));
    let (_, a) = first.apply(&salary, &mut scratch);
    let (_, b) = first.apply(&groceries, &mut scratch);
    let (_, c) = first.apply(&salary, &mut scratch);
    let (a, b, c) = (a.unwrap(), b.unwrap(), c.unwrap());
    assert_eq!(&*a, "SALARY=t/sal@1");
    assert_eq!(&*b, "GROCERIES=t/groc@1");
    assert!(Arc::ptr_eq(&a, &c), "the same combination is built once");
    // Another rule set with the same rules and a new version, through
    // the same scratch, never gets the first set's text.
    let second = Labeller::new(Some(parse("2")));
    let (_, d) = second.apply(&salary, &mut scratch);
    assert_eq!(&*d.unwrap(), "SALARY=t/sal@2");
    // A transaction no rule labels (neither the client's nor the
    // default ones) has none.
    let nothing = Signals {
        amount: Amount::from_cents(-100),
        purpose: Some("zzzz"),
        ..Signals::default()
    };
    assert_eq!(first.apply(&nothing, &mut scratch).1, None);
}

#[test]
fn bad_rule_sets_are_refused() {
    for bad in [
        r#"{"version": "1", "rules": [{"id": "x", "labels": ["NOPE"]}]}"#,
        r#"{"version": "1", "rules": [{"id": "x", "labels": ["RENT"], "direction": "sideways"}]}"#,
        r#"{"version": "1", "rules": [{"id": "x", "labels": ["RENT"], "mcc": ["abc"]}]}"#,
        r#"{"version": "1", "rules": [{"id": "x", "labels": ["RENT"], "colour": "red"}]}"#,
        r#"{"version": "1", "rules": [{"id": "x", "labels": []}]}"#,
    ] {
        assert!(RuleSet::parse("t", bad).is_err(), "{bad}");
    }
}

#[test]
fn client_rules_take_precedence() {
    let client = RuleSet::parse(
        "client",
        r#"{"version": "7", "rules": [{"id": "bonus", "labels": ["OTHERINCOME"], "direction": "in", "text": ["gehalt bonus"]}]}"#,
    )
    .unwrap();
    let l = Labeller::new(Some(std::sync::Arc::new(client)));
    let mut scratch = Scratch::default();
    let s = |p: &'static str| Signals {
        amount: Amount::from_cents(100_00),
        purpose: Some(p),
        ..Signals::default()
    };
    let (set, prov) = l.apply(&s("Gehalt Bonus 2026"), &mut scratch);
    assert_eq!(names(set), vec!["OTHERINCOME"]);
    assert_eq!(prov.as_deref(), Some("OTHERINCOME=client/bonus@7"));
    // Where the client's rules say nothing, the default rules apply.
    let (set, prov) = l.apply(&s("Gehalt November"), &mut scratch);
    assert_eq!(names(set), vec!["SALARY"]);
    assert!(prov.unwrap().starts_with("SALARY=default/"));
    let (set, prov) = Labeller::default().apply(&s("Gutschrift"), &mut scratch);
    assert!(set.iter().next().is_none() && prov.is_none());
}

#[test]
fn the_default_rule_set_compiles() {
    assert!(RuleSet::default_rules().len() > 50);
}

/// The same rules with every keyword-free rule tried on every
/// transaction, as before the code index.
fn tried_in_turn(rules: &RuleSet) -> RuleSet {
    let mut plain = rules.clone();
    plain.unconditional = (0..rules.rules.len())
        .filter(|&ri| rules.rules[ri].is_keyword_free())
        .collect();
    plain.by_code = CodeIndex::default();
    plain
}

/// Words and codes the default rules look for, and some they do not.
fn vocabulary() -> (Vec<String>, Vec<String>, Vec<String>) {
    let doc: serde_json::Value =
        serde_json::from_str(include_str!("../../rules/default.json")).unwrap();
    let (mut words, mut sepa, mut btc) = (Vec::new(), Vec::new(), Vec::new());
    for r in doc["rules"].as_array().unwrap() {
        let list = |key: &str| -> Vec<String> {
            r[key]
                .as_array()
                .into_iter()
                .flatten()
                .map(|v| v.as_str().unwrap().to_owned())
                .collect()
        };
        for key in ["text", "alsoText", "counterpart", "notText"] {
            words.extend(list(key));
        }
        sepa.extend(list("sepaPurposeCode"));
        btc.extend(list("bankTransactionCode"));
    }
    words.extend([
        "Beitrag".to_owned(),
        "ACME GmbH".to_owned(),
        "12/2026".to_owned(),
    ]);
    let lower: Vec<String> = sepa.iter().map(|c| c.to_ascii_lowercase()).collect();
    sepa.extend(lower);
    sepa.push("XXXX".to_owned());
    btc.push("999".to_owned());
    (words, sepa, btc)
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(3000))]
    #[test]
    fn codes_select_the_rules_that_trying_every_rule_finds(
        amount in -500_000i64..500_000,
        purpose in proptest::collection::vec(0usize..10_000, 0..4),
        counterpart in proptest::collection::vec(0usize..10_000, 0..2),
        sepa in proptest::option::of(0usize..10_000),
        btc in proptest::option::of(0usize..10_000),
        mcc in proptest::option::of(proptest::prop_oneof![
            proptest::sample::select(&[5411u16, 5499, 5541, 5812, 4111, 4121, 5311, 6300, 7011, 9999][..]),
            0u16..10_000,
            10_000u16..u16::MAX,
        ]),
        creditor in proptest::option::of(proptest::sample::select(&["DE36ZZZ00010000021", "DE98ZZZ09999999999"][..])),
    ) {
        let (words, sepas, btcs) = vocabulary();
        let pick = |v: &[usize]| v.iter().map(|&i| words[i % words.len()].as_str()).collect::<Vec<_>>().join(" ");
        let (purpose, counterpart) = (pick(&purpose), pick(&counterpart));
        let s = Signals {
            amount: Amount::from_cents(amount),
            purpose: Some(purpose.as_str()),
            counterpart_name: Some(counterpart.as_str()),
            counterpart_iban: None,
            creditor_id: creditor,
            mandate_reference: None,
            bank_transaction_code: btc.map(|i| btcs[i % btcs.len()].as_str()),
            sepa_purpose_code: sepa.map(|i| sepas[i % sepas.len()].as_str()),
            mcc,
        };
        let rules = RuleSet::default_rules();
        let plain = tried_in_turn(rules);
        let (mut a, mut b) = (Scratch::default(), Scratch::default());
        let indexed = rules.label(&s, &mut a);
        proptest::prop_assert_eq!(indexed, plain.label(&s, &mut b));
        proptest::prop_assert_eq!(rules.provenance_text(&a), plain.provenance_text(&b));
    }
}

/// Insurers, landlords and suppliers of the neighbouring markets are known
/// by name; a word that names a channel (`INTERNET` as the merchant's
/// place of an online card payment, online banking) names no product.
#[test]
fn neighbouring_markets_are_known_by_their_names() {
    for (amount, counterpart, purpose, expected) in [
        (
            -61_20,
            "",
            "PRLV SEPA MACIF Contrat auto 88120",
            "CARINSURANCE",
        ),
        (
            -23_00,
            "Menzis Zorgverzekeraar",
            "Premie 2027-04",
            "HEALTHINSURANCE",
        ),
        (
            -88_00,
            "",
            "PRLV SEPA SURAVENIR versement programme",
            "LIFEINSURANCE",
        ),
        (
            -45_00,
            "UNIQA Österreich",
            "Polizze 4471 Unfall",
            "ACCIDENTINSURANCE",
        ),
        (
            -300_00,
            "",
            "PRLV SEPA GENERALI VIE contrat retraite 0771",
            "LIFEINSURANCE",
        ),
        (
            -950_00,
            "Woonstichting Voorbeeld",
            "Maandtermijn april",
            "RENT",
        ),
        (-950_00, "M. Dupont", "Loyer avril 2027 appartement", "RENT"),
        (-72_00, "Eneco Retail", "Termijnbedrag 04-2027", "ENERGY"),
        (
            -39_99,
            "Beispiel Internet GmbH",
            "Kundennr 8812 04/2027",
            "TELECOMMUNICATION",
        ),
    ] {
        assert_eq!(
            default_labels(amount, counterpart, purpose),
            [expected],
            "{counterpart} | {purpose}"
        );
    }
    for (counterpart, purpose) in [
        ("", "VIR CB 1204 FNAC INTERNET 75PARIS"),
        (
            "",
            "ONLINE-BANKING INTERNET VOM 02.04 UM 10:12 Überweisung an A. Muster",
        ),
    ] {
        assert!(
            !default_labels(-39_99, counterpart, purpose).contains(&"TELECOMMUNICATION"),
            "{purpose}"
        );
    }
    // A state pension fund paying a pension is no life insurance premium.
    assert_eq!(
        default_labels(1_250_00, "CARSAT Bretagne", "Retraite de base 04/2027"),
        ["PENSION"]
    );
}

/// An invoice paid to the account is income, whoever pays it and in
/// whatever language; a credit note, refund or reimbursement quoting an
/// invoice is not. Payment providers paying out a merchant's takings are
/// income too.
#[test]
fn paid_invoices_and_merchant_payouts_are_income() {
    for (counterpart, purpose) in [
        ("Erika Beispiel", "Rechnung 2027-041 Gartenpflege"),
        ("", "TYT.: FAKTURA VAT NR 12/04/2027"),
        ("Voorbeeld", "Factuur 20270412"),
        ("", "/NAME/SHOPIFY PAYMENTS EUROPE/REMI/Payout 8812"),
        ("Stripe Technology Europe Ltd", "STRIPE XK8812"),
    ] {
        assert_eq!(
            default_labels(180_00, counterpart, purpose),
            ["OTHERINCOME"],
            "{counterpart} | {purpose}"
        );
    }
    for purpose in [
        "Gutschrift zu Rechnung 2027-041",
        "Erstattung Rechnung 7781",
        "Remboursement facture 0412",
        "Beihilfe Rechnung Dr. Muster",
    ] {
        assert!(
            !default_labels(180_00, "Beispiel GmbH", purpose).contains(&"OTHERINCOME"),
            "{purpose}"
        );
    }
}

/// Vehicles beyond the car (mopeds, motorhomes, a premium quoting a licence
/// plate) are insured as CAR; `HR` beside an insurance word is Hausrat; a
/// tenant's legal-expenses insurance is no rent; a refund of service charges
/// is rent in the other direction.
#[test]
fn vehicles_household_abbreviations_and_service_charges() {
    for (amount, counterpart, purpose, expected) in [
        (
            -29_00,
            "Beispiel Versicherung",
            "Mofaversicherung Saison 2027",
            &["CARINSURANCE"][..],
        ),
        (
            -88_00,
            "Beispiel Versicherung",
            "Wohnwagen Teilkasko",
            &["CARINSURANCE"][..],
        ),
        (
            -31_00,
            "Beispiel Versicherung",
            "Beitrag Kennz. HH-XY 77",
            &["CARINSURANCE"][..],
        ),
        (
            -9_80,
            "Beispiel Versicherung",
            "HR Vers. Nr. 4412",
            &["HOUSEHOLDINSURANCE"][..],
        ),
        (
            -30_00,
            "Beispiel Rechtsschutz AG",
            "Mieter-Rechtsschutz Beitrag",
            &["LEGALINSURANCE"][..],
        ),
        (
            112_40,
            "Beispiel Hausverwaltung",
            "Betriebskostenguthaben 2026",
            &["RENT"][..],
        ),
        (
            -80_00,
            "Stadtkasse Beispielstadt",
            "Grundstücksabgaben 2. Quartal",
            &["PROPERTYTAX", "TAXPAYMENT"][..],
        ),
    ] {
        assert_eq!(
            default_labels(amount, counterpart, purpose),
            expected,
            "{counterpart} | {purpose}"
        );
    }
}

/// An employer's monthly remittance to a health fund (its contribution
/// statement, quoting its establishment number) is no insurance of the
/// account holder's, though the payee is a health fund.
#[test]
fn an_employers_remittance_to_a_health_fund_is_no_insurance() {
    for purpose in [
        "Beitragsnachweis 04/2027",
        "SV-Beitraege 04/2027 Betriebsnummer 87654321",
        "Beitraege 04/2027 BNR 87654321",
    ] {
        let labels = default_labels(-1_450_00, "Beispiel BKK", purpose);
        assert!(
            !labels.iter().any(|l| l.ends_with("INSURANCE")),
            "{purpose}: {labels:?}"
        );
    }
    assert_eq!(
        default_labels(-210_00, "Beispiel BKK", "Beitrag 04/2027 KV-Nr A123456789"),
        ["HEALTHINSURANCE"]
    );
}

/// A civil servant's pay comes from a pay office whose name also says
/// "Versorgung" (the office pays pensions too): the pay is salary, the
/// pension it pays is a pension. The kinds of statutory pension are
/// pensions by name; a landlord's settlement or a returned deposit is
/// about the rent; glass cover is household insurance.
#[test]
fn pay_offices_pension_kinds_rent_settlements_and_glass_cover() {
    let office = "Landesamt für Besoldung und Versorgung Baden-Württemberg";
    assert_eq!(
        default_labels(2_410_00, office, "Bezüge 05/2027 PNR 99120"),
        ["SALARY"]
    );
    assert_eq!(
        default_labels(1_870_00, office, "Versorgungsbezüge 05/2027"),
        ["PENSION"]
    );
    for (counterpart, purpose, expected) in [
        ("Beispiel Kasse", "Witwenrente Mai 2027", "PENSION"),
        ("Beispiel Kasse", "Erwerbsminderungsrente 05/27", "PENSION"),
        ("Beispiel Kasse", "Verletztenrente Az. 4-1123", "PENSION"),
        (
            "Beispiel Wohnen eG",
            "Guthaben aus Betriebskostenabrechnung 2026",
            "RENT",
        ),
        (
            "Beispiel Wohnen eG",
            "Rückzahlung Mietkaution Whg. 4",
            "RENT",
        ),
    ] {
        assert_eq!(
            default_labels(640_00, counterpart, purpose),
            [expected],
            "{purpose}"
        );
    }
    assert_eq!(
        default_labels(-18_40, "Beispiel Versicherung AG", "Glasversicherung 2027"),
        ["HOUSEHOLDINSURANCE"]
    );
}

/// A false friend (Krankenhaus inside Krankenhauszusatz…) vetoes a part
/// of a word, not a whole word that names the line.
#[test]
fn a_false_friend_does_not_veto_a_word_that_names_the_line() {
    for (purpose, expected) in [
        (
            "Krankenhauszusatzversicherung Beitrag 06/27",
            "HEALTHINSURANCE",
        ),
        ("Krankenhaustagegeld Tarif S2", "HEALTHINSURANCE"),
        ("Oldtimer-Versicherung H-Kennzeichen", "CARINSURANCE"),
        ("Photovoltaikversicherung Anlage Dach", "BUILDINGINSURANCE"),
    ] {
        assert_eq!(
            default_labels(-27_50, "Beispiel Versicherung AG", purpose),
            [expected],
            "{purpose}"
        );
    }
    // The part alone still does not make a hospital bill insurance, nor
    // does a word of the line beside another false friend.
    assert!(default_labels(-27_50, "Städtisches Krankenhaus", "Rechnung 4471").is_empty());
    assert!(
        default_labels(
            -1_800_00,
            "Seniorenzentrum Sonnenhof",
            "Pflegekosten Pflegeheim Mai 2027"
        )
        .is_empty()
    );
}

/// Paying back an overpaid benefit is about that benefit, in the other
/// direction; alimony is income, not a pension, though French calls it one.
#[test]
fn benefits_paid_back_and_alimony() {
    assert_eq!(
        default_labels(
            -212_40,
            "",
            "Jobcenter Beispielstadt Rückforderung Az 123/27"
        ),
        ["UNEMPLOYMENTBENEFIT"]
    );
    assert_eq!(
        default_labels(-95_00, "", "VIR FRANCE TRAVAIL remboursement indu 04/2027"),
        ["UNEMPLOYMENTBENEFIT"]
    );
    // A child benefit paid back is no unemployment benefit.
    assert!(
        !default_labels(
            -250_00,
            "Bundesagentur für Arbeit Familienkasse",
            "Erstattung Kindergeld 2026"
        )
        .contains(&"UNEMPLOYMENTBENEFIT")
    );
    assert_eq!(
        default_labels(300_00, "", "VIR M DURAND pension alimentaire mai"),
        ["OTHERINCOME"]
    );
}

#[test]
fn a_payment_from_an_insurer_takes_the_line_it_pays_back() {
    // The line the text names, from an insurer of several lines.
    assert_eq!(
        default_labels(
            95_00,
            "Gothaer Allgemeine Versicherung AG",
            "Beitragsrückerstattung Hausrat 2026"
        ),
        ["HOUSEHOLDINSURANCE"]
    );
    // A specialist's line, when the text says it pays something back.
    assert_eq!(
        default_labels(150_00, "BARMER", "Bonus aus dem Bonusprogramm 2026"),
        ["HEALTHINSURANCE"]
    );
    assert_eq!(
        default_labels(
            1_240_00,
            "ROLAND Rechtsschutz-Versicherungs-AG",
            "Schadenzahlung Az 77/123"
        ),
        ["LEGALINSURANCE"]
    );
    // An insurer's own staff, and sick pay that replaces income, are no refund.
    assert_eq!(
        default_labels(3_100_00, "DAK-Gesundheit", "Gehalt 06/2027 PersNr 4711"),
        ["SALARY"]
    );
    assert!(
        !default_labels(620_00, "AOK Nordost", "Krankengeld 01.06.-30.06.2027")
            .iter()
            .any(|l| l.ends_with("INSURANCE"))
    );
    // A several-line insurer paying without naming the line: no guess.
    assert_eq!(
        default_labels(
            400_00,
            "Allianz Versicherungs-AG",
            "Zahlung zu Vorgang 123/456"
        ),
        Vec::<&str>::new()
    );
}

#[test]
fn pension_funds_by_kind_and_interest_called_rente() {
    for (payer, text) in [
        ("Bayerische Versorgungskammer", "Ruhegeld 07/2027"),
        (
            "Zusatzversorgungskasse des Kommunalen Versorgungsverbands",
            "Zusatzrente Juli",
        ),
        ("Rechtsanwaltsversorgungswerk NRW", "Altersruhegeld 07/2027"),
    ] {
        assert_eq!(default_labels(512_30, payer, text), ["PENSION"], "{payer}");
    }
    // Dutch banks print interest as "rente": a savings account, a period
    // or a bank as payer make it interest, not a pension.
    for (payer, text) in [
        ("", "Rente spaarrekening 2e kwartaal 2027"),
        ("Triodos Bank N.V.", "Rente"),
        ("", "RENTE OVER PERIODE 01-04-2027 T/M 30-06-2027"),
    ] {
        assert_eq!(
            default_labels(4_12, payer, text),
            ["CAPITALINCOME"],
            "{text}"
        );
    }
    assert_eq!(
        default_labels(1_204_00, "Deutsche Rentenversicherung Bund", "Rente 07/27"),
        ["PENSION"]
    );
}

#[test]
fn benefits_by_statute_fuel_or_power_garages_and_levies() {
    assert_eq!(
        default_labels(
            612_00,
            "Jobcenter Kreis Beispiel",
            "Leistungen nach dem SGB II 08/2027"
        ),
        ["UNEMPLOYMENTBENEFIT"]
    );
    assert_eq!(
        default_labels(980_00, "Bundesagentur fur Arbeit", "ALG I 08/2027"),
        ["UNEMPLOYMENTBENEFIT"]
    );
    // One brand sells fuel at its stations and power to homes.
    assert_eq!(
        default_labels(
            -61_20,
            "TotalEnergies Station 4411",
            "TotalEnergies 12.08.2027"
        ),
        ["FUEL"]
    );
    assert_eq!(
        default_labels(
            -74_00,
            "TotalEnergies Gas & Strom Deutschland GmbH",
            "Abschlag Strom Vertragskonto 123456"
        ),
        ["ENERGY"]
    );
    // A garage or parking space rented is parking, not the home's rent.
    assert_eq!(
        default_labels(-60_00, "Hans Vogel", "Garagenmiete August"),
        ["PARKING"]
    );
    assert_eq!(
        default_labels(-910_00, "Hans Vogel", "Miete August inkl. Garage"),
        ["RENT"]
    );
    assert_eq!(
        default_labels(-42_10, "Ortsgemeinde Beispielbach", "Grundst. B 3/27 Az 12"),
        ["PROPERTYTAX", "TAXPAYMENT"]
    );
}

/// A statement of one account shows a move to the holder's own savings
/// elsewhere only by its words; other labels win over them.
#[test]
fn own_account_moves_by_their_words_and_bank_fees_by_theirs() {
    for (amount, purpose) in [
        (-500_00, "Eigenübertrag auf Konto 1234567"),
        (250_00, "Umbuchung vom Sparkonto"),
        (-1_000_00, "Naar Oranje Spaarrekening V 123-45678"),
        (-300_00, "VIR Virement vers Livret A"),
        (400_00, "INTERNE OVERBOEKING VIA MOBIEL"),
    ] {
        assert_eq!(
            default_labels(amount, "", purpose),
            ["OWNACCOUNTTRANSFER"],
            "{purpose}"
        );
    }
    assert_eq!(
        default_labels(2_800_00, "Beispiel GmbH", "Umbuchung Gehalt 07/2027"),
        ["SALARY"]
    );
    assert_eq!(
        default_labels(-200_00, "", "Auszahlung Geldautomat Umbuchung"),
        ["ATMWITHDRAWAL"]
    );
    for purpose in [
        "Entgeltabrechnung siehe Anlage",
        "FRAIS ACHAT ETRANGER COMMISSION CB 270627",
        "Kosten gebruik betaalrekening inclusief 1 betaalpas",
        "CCY CONVERSION FEE FOR 6.66 SGD",
    ] {
        assert_eq!(
            default_labels(-2_20, "", purpose),
            ["BANKFEES"],
            "{purpose}"
        );
    }
}

#[test]
fn regional_utilities_levy_abbreviations_and_statutory_pensions() {
    for payee in [
        "Elektrizitätswerke Musterstadt eG",
        "Pfalzwerke AG",
        "Gasversorgung Beispieltal GmbH",
    ] {
        assert_eq!(
            default_labels(-64_00, payee, "Abschlag 09/2027 Kd 4711"),
            ["ENERGY"],
            "{payee}"
        );
    }
    // An instalment alone names no utility: no guess.
    assert_eq!(
        default_labels(-64_00, "Schreinerei Holz GmbH", "Abschlag 2 Küche"),
        Vec::<&str>::new()
    );
    assert_eq!(
        default_labels(
            -88_10,
            "Stadt Beispielburg",
            "GrSt B Kz. 1.2345.6789 3. Rate"
        ),
        ["PROPERTYTAX", "TAXPAYMENT"]
    );
    // A fund that runs both a pension and a health fund pays a pension.
    assert_eq!(
        default_labels(
            412_00,
            "Deutsche Rentenversicherung Knappschaft-Bahn-See",
            "Witwenrente 09/27"
        ),
        ["PENSION"]
    );
}

/// Payments that quote insurance without paying a premium abstain; a
/// funeral fund is a life insurer.
#[test]
fn co_payments_advice_and_brokers_fees_are_no_premium() {
    assert_eq!(
        default_labels(-5_00, "Löwen-Apotheke", "Zuzahlung Rezept Krankenkasse"),
        ["DRUGSTORE"]
    );
    assert_eq!(
        default_labels(
            -19_90,
            "Verbraucherzentrale Bayern",
            "Beratung Versicherungsverträge"
        ),
        Vec::<&str>::new()
    );
    assert_eq!(
        default_labels(-78_00, "Versicherungsmakler Nord", "Courtage Beratung 2027"),
        Vec::<&str>::new()
    );
    assert_eq!(
        default_labels(-12_00, "Sterbekasse Beispielwerk VVaG", "Beitrag 09/2027"),
        ["LIFEINSURANCE"]
    );
}
