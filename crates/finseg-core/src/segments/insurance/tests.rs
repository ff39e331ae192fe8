use super::*;

use crate::AccountType;
use crate::providers;
use crate::segments::AccountData;
use crate::segments::Tx;
use serde_json::json;

fn d(s: &str) -> Date {
    Date::parse(s).unwrap()
}

fn ins(
    id: &str,
    day: &str,
    cents: i64,
    label: &str,
    name: &str,
    purpose: &str,
    cid: Option<&str>,
) -> Tx {
    let mut l = LabelSet::default();
    l.insert(Label::parse(label).unwrap());
    Tx {
        id: id.into(),
        amount: Amount::from_cents(cents),
        booking_date: d(day),
        labels: l,
        purpose: Some(purpose.into()),
        counterpart_name: Some(name.into()),
        counterpart_iban: None,
        creditor_id: cid.map(str::to_owned),
        mandate_reference: cid.map(|_| "M-1".to_owned()),
    }
}

fn user(txs: Vec<Tx>) -> UserData {
    let mut txs = txs;
    txs.sort_by_key(|t| t.booking_date);
    UserData {
        id: "u".into(),
        accounts: vec![AccountData {
            id: "c".into(),
            account_type: AccountType::Checking,
            iban: None,
            balance: Amount::ZERO,
            balance_date: d("2026-11-25"),
            data_since: None,
            daily_balances: vec![],
            transactions: txs,
        }],
    }
}

#[test]
fn monthly_car_and_yearly_liability() {
    let mut txs: Vec<Tx> = (1..=10)
        .map(|m| {
            ins(
                &format!("car{m}"),
                &format!("2026-{m:02}-01"),
                -45_90,
                "CARINSURANCE",
                "HUK-COBURG",
                "Kfz-Vers. Vertrag 4711-0815 Beitrag",
                Some("DE12ZZZ00000012345"),
            )
        })
        .collect();
    txs.push(ins(
        "liab",
        "2026-03-15",
        -79_00,
        "LIABILITYINSURANCE",
        "Allianz Versicherungs-AG",
        "Privathaftpflicht Jahresbeitrag VSNR 9988776",
        None,
    ));
    // Outside the lookback (the creation month): ignored.
    txs.push(ins(
        "car11",
        "2026-11-02",
        -45_90,
        "CARINSURANCE",
        "HUK-COBURG",
        "Kfz-Vers. Beitrag",
        Some("DE12ZZZ00000012345"),
    ));
    let p = Period::last_complete_months(d("2026-11-25"), 12);
    let Verdict::Member(m) = evaluate(&user(txs), p, None, false) else {
        panic!()
    };
    let m = serde_json::to_value(&m).unwrap();
    let c = m["contracts"].as_array().unwrap();
    assert_eq!(c.len(), 2);
    let car = c.iter().find(|c| c["insuranceType"] == "CAR").unwrap();
    assert_eq!(car["provider"], "HUK-COBURG");
    assert_eq!(car["frequency"], "MONTHLY");
    assert_eq!(car["amount"].to_string(), "45.90");
    assert_eq!(car["annualAmount"].to_string(), "550.80");
    assert_eq!(car["paymentCount"], 10);
    assert_eq!(car["nextExpectedDate"], "2026-11-01");
    assert_eq!(car["contractNumber"], "4711-0815");
    let liab = c
        .iter()
        .find(|c| c["insuranceType"] == "LIABILITY")
        .unwrap();
    assert_eq!(liab["frequency"], "YEARLY");
    assert_eq!(liab["provider"], "Allianz");
    assert_eq!(liab["providerId"], "allianz");
    assert_eq!(liab["annualAmount"].to_string(), "79.00");
    assert_eq!(liab["contractNumber"], "9988776");
    assert_eq!(
        m["missingTypes"],
        json!(["HOUSEHOLD", "HEALTH", "LEGAL", "DISABILITY"])
    );
}

#[test]
fn filters_and_users_without_contracts() {
    let txs = vec![ins(
        "h",
        "2026-05-01",
        -12_00,
        "HOUSEHOLDINSURANCE",
        "Gothaer",
        "Hausrat",
        None,
    )];
    let p = Period::last_complete_months(d("2026-11-25"), 12);
    assert_eq!(
        evaluate(&user(txs.clone()), p, Some(&["CAR"]), false),
        Verdict::NotMember
    );
    // One payment in a year-long lookback, months before its end: the
    // pattern of a yearly contract (a shorter interval would show again).
    let Verdict::Member(m) = evaluate(&user(txs.clone()), p, None, false) else {
        panic!()
    };
    let m = serde_json::to_value(&m).unwrap();
    assert_eq!(m["contracts"][0]["frequency"], "YEARLY");
    // In a six-month lookback, without a word for yearly: IRREGULAR.
    let six = Period::last_complete_months(d("2026-11-25"), 6);
    let Verdict::Member(m) = evaluate(&user(txs), six, None, false) else {
        panic!()
    };
    let m = serde_json::to_value(&m).unwrap();
    assert_eq!(m["contracts"][0]["frequency"], "IRREGULAR");
    // A first payment in the last two months may be a new monthly contract: IRREGULAR.
    let recent = vec![ins(
        "h2",
        "2026-10-01",
        -12_00,
        "HOUSEHOLDINSURANCE",
        "Gothaer",
        "Hausrat",
        None,
    )];
    let Verdict::Member(m) = evaluate(&user(recent), p, None, false) else {
        panic!()
    };
    let m = serde_json::to_value(&m).unwrap();
    assert_eq!(m["contracts"][0]["frequency"], "IRREGULAR");
    let plain = Tx::plain("groceries", d("2026-06-01"), Amount::from_cents(-20_00));
    let Verdict::Member(m) = evaluate(&user(vec![plain.clone()]), p, None, true) else {
        panic!()
    };
    let m = serde_json::to_value(&m).unwrap();
    assert_eq!(m["contracts"], json!([]));
    assert_eq!(m["missingTypes"].as_array().unwrap().len(), 5);
    assert_eq!(
        evaluate(&user(vec![plain]), p, None, false),
        Verdict::NotMember
    );
    assert_eq!(evaluate(&user(vec![]), p, None, true), Verdict::WithoutData);
}

#[test]
fn stored_form_keeps_any_text() {
    // Separators of the packed form, and ids that share a multi-byte prefix.
    let txs = vec![
        ins(
            "ü1;",
            "2026-04-01",
            -5_00,
            "PETINSURANCE",
            "7:x;-",
            "Tier",
            None,
        ),
        ins(
            "ü2:",
            "2026-05-01",
            -5_00,
            "PETINSURANCE",
            "7:x;-",
            "Tier",
            None,
        ),
    ];
    let p = Period::last_complete_months(d("2026-11-25"), 12);
    let Rendered::Member(stored) = render(&user(txs.clone()), p, None, false) else {
        panic!()
    };
    assert!(stored.starts_with(PACKED));
    let Verdict::Member(m) = evaluate(&user(txs), p, None, false) else {
        panic!()
    };
    let m = serde_json::to_value(&m).unwrap();
    assert_eq!(m["contracts"][0]["provider"], "7:x;-");
    assert_eq!(m["contracts"][0]["transactionIds"], json!(["ü1;", "ü2:"]));
    assert_eq!(unpack("u", "~I1;"), None);
    assert_eq!(unpack("u", "{}"), None);
}

#[test]
fn the_earlier_stored_form_still_reads() {
    // One user's member as the previous format stored it (`~I`) and as the
    // rule stores it now (`~J`), from two jobs over the same data.
    let v1 = "~I1;25:demo-user-010003-checking30;4;0;20343;81372;8:7797183618:DE31ZZZ0001000001420424;2;1;20698;10:LV7797183620789;4;3:LVM3:lvm4;0;31:demo-user-010003-checking-0011729;2:4929;2:9628;3:2340;4939;59268;8:4848989518:DE37ZZZ0001000000320423;0;1;20759;10:HC4848989520789;12;10:HUK-COBURG10:huk-coburg12;0;31:demo-user-010003-checking-0011529;2:2929;2:4029;2:5129;2:6429;2:8029;2:9428;3:20929;2:2129;2:3229;2:4529;2:590;5352;5352;8:6026165918:DE37ZZZ0001000000320549;4;3;20549;10:HC6026165920914;1;10:HUK-COBURG10:huk-coburg1;0;31:demo-user-010003-checking-001670;11805;141660;8:9097009018:DE91ZZZ0001000000120423;0;1;20759;10:AL9097009020789;12;7:Allianz7:allianz12;0;31:demo-user-010003-checking-0011429;2:2829;2:3929;2:5029;2:6329;2:7929;2:9328;3:20829;2:2029;2:3129;2:4429;2:58";
    let v2 = "~J1;16;9:-checking30;4;0;20343;2;=8:7797183618:DE31ZZZ0001000001420424;274;91;10:LV779718361;=3:lvm4;=25;6:-00117+32;+47;+38;0;4939;0;=8:4848989518:DE37ZZZ0001000000320423;336;30;10:HC484898951;=10:huk-coburg12;=25;6:-00115+14;+11;+11;+13;+16;+14;+15;+12;+11;+13;+14;0;5352;4;=8:6026165918:DE37ZZZ0001000000320549;0;365;10:HC602616593;=10:huk-coburg1;=25;6:-001670;11805;0;=8:9097009018:DE91ZZZ0001000000120423;336;30;10:AL909700901;=7:allianz12;=25;6:-00114+14;+11;+11;+13;+16;+14;+15;+12;+11;+13;+14;";
    let user = "demo-user-010003";
    let json = unpack(user, v1).unwrap();
    assert_eq!(unpack(user, v2).unwrap(), json);
    let m = serde_json::to_value(&json).unwrap();
    let c = &m["contracts"][0];
    assert_eq!(c["provider"], "LVM");
    assert_eq!(c["annualAmount"], 813.72);
    assert_eq!(c["nextExpectedDate"], "2026-12-02");
    assert_eq!(
        c["transactionIds"],
        json!([
            "demo-user-010003-checking-00117",
            "demo-user-010003-checking-00149",
            "demo-user-010003-checking-00196",
            "demo-user-010003-checking-00234"
        ])
    );
    assert_eq!(m["contracts"][2]["frequency"], "YEARLY");
    assert_eq!(m["contracts"][2]["annualAmount"], 53.52);
    assert_eq!(
        m["missingTypes"],
        json!(["HOUSEHOLD", "HEALTH", "LEGAL", "DISABILITY"])
    );
    // A step past the number's width, or a truncated member, is no member.
    assert_eq!(unpack(user, &v2.replace("+38;", "+99999;")), None);
    assert_eq!(unpack(user, &v2[..v2.len() - 1]), None);
    // A damaged id count is no member, and no allocation of its size.
    let damaged = v2.replacen("huk-coburg12;=", "huk-coburg999999999999999;=", 1);
    assert_ne!(damaged, v2);
    assert_eq!(unpack(user, &damaged), None);
}

#[test]
fn trailing_numbers_step_only_within_their_width() {
    assert_eq!(number_step("tx-0099", "tx-0100"), Some(1));
    assert_eq!(advance_number("tx-0099", 1).as_deref(), Some("tx-0100"));
    assert_eq!(number_step("tx-0100", "tx-0099"), None);
    assert_eq!(number_step("tx-99", "tx-100"), None);
    assert_eq!(number_step("a-1", "b-2"), None);
    assert_eq!(advance_number("tx-99", 1), None);
    assert_eq!(advance_number("tx-", 1), None);
    let long = "1".repeat(19);
    assert_eq!(number_step(&long, &"2".repeat(19)), None);
}

use proptest::strategy::Strategy as _;

/// `contract_number` as it was written first: each marker searched
/// for in a lower-cased copy, in order.
fn contract_number_by_search(purpose: &str) -> Option<String> {
    let lower = purpose.to_ascii_lowercase();
    NUMBER_MARKERS
        .iter()
        .filter_map(|m| lower.find(m).map(|i| i + m.len()))
        .find_map(|after| number_after_marker(&purpose[after..]))
        .or_else(|| long_digit_run(purpose))
}

/// `yearly_text` as it was written first: every word searched for in
/// a lower-cased copy.
fn yearly_text_by_search(purpose: Option<&str>, name: Option<&str>) -> bool {
    let text = format!("{} {}", purpose.unwrap_or(""), name.unwrap_or("")).to_lowercase();
    YEARLY_WORDS.iter().any(|k| text.contains(k))
}

#[test]
fn contract_numbers_and_yearly_words_are_found_in_any_case() {
    assert_eq!(
        contract_number("KFZ-Haftpflicht VERS.-NR. AB-1234/5 Beitrag").as_deref(),
        Some("AB-1234/5")
    );
    // A marker whose token has too few digits gives way to the next.
    assert_eq!(
        contract_number("Vertrag 12 Police: 99887").as_deref(),
        Some("99887")
    );
    assert_eq!(
        contract_number("Beitrag 11/2026 Kd 12345678").as_deref(),
        Some("12345678")
    );
    assert_eq!(contract_number("Beitrag 11/2026"), None);
    assert!(yearly_text(Some("JAHRESBEITRAG 2026"), None));
    assert!(yearly_text(Some("Beitrag 1/1"), Some("Jahr Versicherung")));
    assert!(yearly_text(Some("Prämie JÄHRLICH"), None));
    assert!(!yearly_text(Some("Beitrag 11/2026"), Some("HUK-COBURG")));
}

proptest::proptest! {
    /// The one-pass searches find what a search of a lower-cased copy,
    /// marker by marker, found.
    #[test]
    fn contract_numbers_and_yearly_words_are_found_as_by_search(
        parts in proptest::collection::vec(proptest::prop_oneof![
            // A marker and what may follow it: a number, or too few digits.
            (
                proptest::sample::select(NUMBER_MARKERS.to_vec()),
                "[ .:-]{0,2}",
                "[0-9]{0,7}[A-Z/-]{0,2}[0-9]{0,3}",
                "[ ,]{0,1}",
            ).prop_map(|(m, sep, token, end)| format!("{m}{sep}{token}{end}")),
            proptest::sample::select(YEARLY_WORDS.to_vec()).prop_map(str::to_owned),
            "[VvEeRrSsNnTtAaGgPpOoLlIiCc.:/ -]{0,6}",
            "[0-9A-Za-z/-]{0,9}",
            "[äÄüÜß€ 1]{0,3}",
        ], 0..8),
        upper in proptest::collection::vec(proptest::bool::ANY, 8),
        name in proptest::option::of("[a-zA-Zä /1.]{0,12}"),
    ) {
        let purpose: String = parts
            .iter()
            .zip(upper.iter().cycle())
            .map(|(p, &u)| if u { p.to_uppercase() } else { p.clone() })
            .collect();
        proptest::prop_assert_eq!(contract_number(&purpose), contract_number_by_search(&purpose));
        proptest::prop_assert_eq!(
            yearly_text(Some(&purpose), name.as_deref()),
            yearly_text_by_search(Some(&purpose), name.as_deref())
        );
    }
}

proptest::proptest! {
    /// Whatever the ids, texts and figures, the stored form reads back
    /// as the JSON written straight from the contracts.
    #[test]
    fn the_stored_form_reads_back_as_written(
        user in "[a-z0-9ü-]{0,8}",
        contracts in proptest::collection::vec((
            0usize..3,
            (1i64..10_000_000, 0usize..6, proptest::option::of(1i64..100_000_000)),
            (proptest::option::of("[0-9A-Z;:=+ -]{0,12}"), proptest::option::of("[0-9A-Z]{0,18}")),
            (0i32..30_000, 0i32..800, proptest::option::of(0i32..800)),
            (0usize..INSURANCE_TYPES.len(), proptest::option::of(0usize..200), "[a-zA-Z;:= -]{0,10}"),
            (proptest::collection::vec(("[a-z0-9;:+ü-]{0,6}", 0u64..1_000), 0..14), proptest::option::of(0usize..20)),
        ), 0..4),
        missing_bits in 0u32..32,
    ) {
        let accounts = [format!("{user}-checking"), format!("{user}-savings"), "other0".to_owned()];
        let directory = providers::all();
        let listed: Vec<Listed<'_>> = contracts
            .iter()
            .map(|(account, (amount, f, annual), (number, creditor), (first, last, next), (t, provider, name), (ids, count))| {
                let frequency = FREQUENCIES[*f];
                let amount = Amount::from_cents(*amount);
                // Ids that step, that share a front, and that do neither.
                let mut previous = accounts[*account].clone();
                let transaction_ids: Vec<Cow<'_, str>> = ids
                    .iter()
                    .map(|(text, step)| {
                        let id = match advance_number(&previous, *step) {
                            Some(id) if *step % 3 != 0 => id,
                            _ => {
                                let half = previous.chars().count() / 2;
                                let front: String = previous.chars().take(half).collect();
                                format!("{front}{text}{step}")
                            }
                        };
                        previous.clone_from(&id);
                        Cow::Owned(id)
                    })
                    .collect();
                let provider = provider.map(|p| &directory[p % directory.len()]);
                let first = Date::from_days(*first);
                let last = first.add_days(*last);
                Listed {
                    account_id: &accounts[*account],
                    amount,
                    annual_amount: annual.map_or_else(
                        || frequency.annual(amount).unwrap_or(amount),
                        Amount::from_cents,
                    ),
                    contract_number: number.as_deref(),
                    creditor_id: creditor.as_deref(),
                    first,
                    frequency,
                    itype: INSURANCE_TYPES[*t].0,
                    last,
                    mandate_reference: number.as_deref().map(|n| &n[..n.len() / 2]),
                    next_expected: next.map(|n| last.add_days(n)),
                    count: count.unwrap_or(transaction_ids.len()),
                    provider: provider.map_or(name.as_str(), |p| p.name.as_str()),
                    provider_id: provider.map(|p| p.id.as_str()),
                    transaction_ids,
                }
            })
            .collect();
        let missing = missing_types(i64::from(missing_bits));
        let stored = pack(&user, &listed, &missing);
        proptest::prop_assert_eq!(
            unpack(&user, &stored),
            Some(member(&user, &listed, &missing))
        );
    }
}

#[test]
fn a_yearly_payment_recognised_by_the_same_amount_a_year_before() {
    let txs = vec![
        ins(
            "y1",
            "2025-02-03",
            -310_00,
            "LEGALINSURANCE",
            "ARAG SE",
            "Beitrag",
            None,
        ),
        ins(
            "y2",
            "2026-02-02",
            -310_00,
            "LEGALINSURANCE",
            "ARAG SE",
            "Beitrag",
            None,
        ),
    ];
    // 2026-05 … 2026-10: no transaction at all in the lookback.
    let p = Period::last_complete_months(d("2026-11-25"), 6);
    assert_eq!(
        evaluate(&user(txs.clone()), p, None, false),
        Verdict::WithoutData
    );
    let p = Period::last_complete_months(d("2026-11-25"), 12); // 2025-11 … 2026-10: one payment
    let Verdict::Member(m) = evaluate(&user(txs), p, None, false) else {
        panic!()
    };
    let m = serde_json::to_value(&m).unwrap();
    assert_eq!(m["contracts"][0]["frequency"], "YEARLY");
    assert_eq!(m["contracts"][0]["provider"], "ARAG");
    assert_eq!(m["contracts"][0]["nextExpectedDate"], "2027-02-02");
}

#[test]
fn an_employer_paying_its_staffs_health_funds_holds_no_health_contract() {
    let monthly = |fund: &str, cents: i64, months: std::ops::RangeInclusive<u32>| {
        months
            .map(|m| {
                ins(
                    &format!("{fund}{m}"),
                    &format!("2026-{m:02}-27"),
                    cents,
                    "HEALTHINSURANCE",
                    fund,
                    &format!("Beitraege {m:02}/2026 Betriebsnummer 12345678"),
                    None,
                )
            })
            .collect::<Vec<Tx>>()
    };
    let p = Period::last_complete_months(d("2026-11-25"), 12);
    let health = |txs: Vec<Tx>| -> Vec<String> {
        let Verdict::Member(m) = evaluate(&user(txs), p, None, true) else {
            panic!()
        };
        m.contracts.into_iter().map(|c| c.provider).collect()
    };
    // Statutory funds paid in the same months with the employer's one
    // company number: contributions for staff.
    let mut employer = monthly("AOK Bayern", -1_204_50, 1..=10);
    employer.extend(monthly("Techniker Krankenkasse", -987_10, 1..=10));
    assert!(health(employer.clone()).is_empty());
    // Three funds at once, whatever the numbers.
    for t in &mut employer {
        t.purpose = Some(format!("Beitraege {}", t.id));
    }
    let mut three = employer;
    three.extend(monthly("BARMER", -455_00, 1..=10).into_iter().map(|mut t| {
        t.purpose = Some(format!("Beitraege {}", t.id));
        t
    }));
    assert!(health(three).is_empty());
    // One fund after the other: a person who changed funds.
    let mut switched = monthly("AOK Bayern", -204_50, 1..=4);
    switched.extend(monthly("Techniker Krankenkasse", -210_10, 5..=10));
    assert_eq!(health(switched), ["AOK", "Techniker Krankenkasse"]);
}
