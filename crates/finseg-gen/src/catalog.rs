//! German insurers and health funds as they appear on statements, with
//! products and plausible monthly premium ranges (cents). Creditor ids are
//! synthetic (derived from `creditor_seed`), never real ones.

pub struct Insurer {
    pub name: &'static str,
    pub creditor_seed: u64,
    pub mandate_prefix: &'static str,
    /// (product text on the statement, monthly premium from, to)
    pub products: &'static [(&'static str, i64, i64)],
}

const fn ins(
    name: &'static str,
    creditor_seed: u64,
    mandate_prefix: &'static str,
    products: &'static [(&'static str, i64, i64)],
) -> Insurer {
    Insurer {
        name,
        creditor_seed,
        mandate_prefix,
        products,
    }
}

pub const INSURERS: &[Insurer] = &[
    ins(
        "Allianz Versicherungs-AG",
        10_000_001,
        "AL",
        &[
            ("Kfz-Versicherung", 45_00, 120_00),
            ("Privathaftpflicht", 5_00, 9_00),
            ("Hausratversicherung", 6_00, 15_00),
        ],
    ),
    ins(
        "AXA Versicherung AG",
        10_000_002,
        "AX",
        &[("KFZ Vers.", 40_00, 110_00), ("Rechtsschutz", 18_00, 35_00)],
    ),
    ins(
        "HUK-COBURG",
        10_000_003,
        "HC",
        &[
            ("Kfz-Haftpflicht/Vollkasko", 35_00, 95_00),
            ("Haftpflichtversicherung", 4_00, 8_00),
        ],
    ),
    ins(
        "HUK24 AG",
        10_000_004,
        "H24",
        &[("Autoversicherung", 30_00, 80_00)],
    ),
    ins(
        "ERGO Versicherung AG",
        10_000_005,
        "ER",
        &[
            ("Zahnzusatzversicherung", 12_00, 35_00),
            ("Risikolebensversicherung", 10_00, 40_00),
        ],
    ),
    ins(
        "Generali Deutschland AG",
        10_000_006,
        "GE",
        &[
            ("Unfallversicherung", 8_00, 25_00),
            ("Lebensversicherung", 50_00, 150_00),
        ],
    ),
    ins(
        "R+V Allgemeine Versicherung AG",
        10_000_007,
        "RV",
        &[
            ("Wohngebaeudeversicherung", 30_00, 70_00),
            ("Kfz-Versicherung", 40_00, 100_00),
        ],
    ),
    ins(
        "Debeka Krankenversicherungsverein a.G.",
        10_000_008,
        "DB",
        &[
            ("Private Krankenversicherung", 350_00, 700_00),
            ("Pflegezusatz", 20_00, 45_00),
        ],
    ),
    ins(
        "DEVK Allgemeine Versicherungs-AG",
        10_000_009,
        "DV",
        &[
            ("Kraftfahrtversicherung", 35_00, 90_00),
            ("Hausrat", 5_00, 12_00),
        ],
    ),
    ins(
        "SIGNAL IDUNA Krankenversicherung a.G.",
        10_000_010,
        "SI",
        &[("Krankenzusatzversicherung", 15_00, 60_00)],
    ),
    ins(
        "Gothaer Allgemeine Versicherung AG",
        10_000_011,
        "GO",
        &[("Privat-Haftpflicht", 5_00, 10_00)],
    ),
    ins(
        "Zurich Insurance plc NfD",
        10_000_012,
        "ZU",
        &[("Berufsunfaehigkeitsversicherung", 50_00, 120_00)],
    ),
    ins(
        "HDI Versicherung AG",
        10_000_013,
        "HD",
        &[("Kfz", 40_00, 100_00), ("Berufsunfähigkeit", 45_00, 110_00)],
    ),
    ins(
        "LVM Versicherung",
        10_000_014,
        "LV",
        &[
            ("Kfz-Versicherung", 35_00, 85_00),
            ("Wohngebäude", 25_00, 60_00),
        ],
    ),
    ins(
        "VHV Allgemeine Versicherung AG",
        10_000_015,
        "VH",
        &[("Autoversicherung", 30_00, 75_00)],
    ),
    ins(
        "Provinzial Versicherung AG",
        10_000_016,
        "PV",
        &[("Gebaeudeversicherung", 30_00, 80_00)],
    ),
    ins(
        "Württembergische Versicherung AG",
        10_000_017,
        "WV",
        &[("Hausrat", 6_00, 14_00)],
    ),
    ins(
        "Barmenia Krankenversicherung AG",
        10_000_018,
        "BA",
        &[("Zahnzusatz", 10_00, 30_00)],
    ),
    ins(
        "Continentale Krankenversicherung a.G.",
        10_000_019,
        "CO",
        &[("Krankenversicherung", 300_00, 650_00)],
    ),
    ins(
        "HanseMerkur Versicherung AG",
        10_000_020,
        "HM",
        &[
            ("Reisekrankenversicherung", 1_00, 3_00),
            ("Zahnzusatz", 10_00, 25_00),
        ],
    ),
    ins(
        "NÜRNBERGER Lebensversicherung AG",
        10_000_021,
        "NU",
        &[("Berufsunfähigkeitsversicherung", 50_00, 130_00)],
    ),
    ins(
        "Cosmos Lebensversicherungs-AG",
        10_000_022,
        "CL",
        &[("Risikolebensversicherung", 8_00, 30_00)],
    ),
    ins(
        "ARAG SE",
        10_000_023,
        "AR",
        &[("Rechtsschutzversicherung", 20_00, 40_00)],
    ),
    ins(
        "ROLAND Rechtsschutz-Versicherungs-AG",
        10_000_024,
        "RO",
        &[("Rechtsschutz", 18_00, 38_00)],
    ),
    ins(
        "Techniker Krankenkasse",
        10_000_025,
        "TK",
        &[("Beitrag freiwillige Versicherung", 200_00, 900_00)],
    ),
    ins(
        "AOK Bayern",
        10_000_026,
        "AOK",
        &[("Beitrag Krankenversicherung", 200_00, 850_00)],
    ),
    ins(
        "BARMER",
        10_000_027,
        "BM",
        &[("Beitrag KV/PV", 200_00, 850_00)],
    ),
    ins(
        "DAK-Gesundheit",
        10_000_028,
        "DAK",
        &[("Beitrag", 200_00, 850_00)],
    ),
    ins(
        "Uelzener Allgemeine Versicherungs-Gesellschaft a.G.",
        10_000_029,
        "UE",
        &[
            ("Hundehaftpflicht", 5_00, 12_00),
            ("Tierkrankenversicherung", 15_00, 45_00),
        ],
    ),
    ins(
        "Alte Leipziger Lebensversicherung a.G.",
        10_000_030,
        "ALL",
        &[("Rentenversicherung", 50_00, 200_00)],
    ),
];
