#!/usr/bin/env python3
"""Writes the labelling evaluation corpus (eval/corpus/*.jsonl).

The phrasings here are collected from how German banks print statement
lines (SEPA mandates, card payments, standing orders, DTA-era truncation at
27 characters, upper case, typos and abbreviations). They were written
without looking at the rules in crates/finseg-core/rules/default.json, and
the rules must not be tuned by reading heldout.jsonl.

Deterministic: `python3 eval/make_corpus.py` always writes the same files.
Every fifth user goes to heldout.jsonl, the rest to dev.jsonl.
"""
import json
import os
import random
from datetime import date, timedelta

R = random.Random(20261125)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def typo(s, p=0.06):
    """Drops, doubles or swaps a letter now and then, as hand-typed references do."""
    if R.random() > p or len(s) < 6:
        return s
    i = R.randrange(1, len(s) - 2)
    k = R.choice(["drop", "double", "swap"])
    if k == "drop":
        return s[:i] + s[i + 1:]
    if k == "double":
        return s[:i] + s[i] + s[i:]
    return s[:i] + s[i + 1] + s[i] + s[i + 2:]


def styled(s):
    r = R.random()
    if r < 0.3:
        s = s.upper()
    elif r < 0.4:
        s = s.lower()
    if R.random() < 0.12:
        s = s[:27]  # legacy 27-character purpose lines
    return typo(s)


def ref(n=8):
    return "".join(R.choice("0123456789") for _ in range(n))


# category: (labels, direction, amount range in euros, counterparts, purposes, extra fields)
CATEGORIES = {
    "salary": (["SALARY"], 1, (1400, 6200),
               ["Stadtwerke Bochum GmbH", "Kreisverwaltung Mainz-Bingen", "ALDI SE & Co. KG", "Fraunhofer-Gesellschaft",
                "Bundesagentur IT-Systemhaus", "Hochtief Infrastructure", "Praxis Dr. med. Yilmaz", "Lufthansa Technik AG"],
               ["Entgelt {m}/{y} PersNr {r}", "GEHALTSZAHLUNG {mon}", "Lohn/Gehalt {m}.{y}", "BEZUEGE {m}.{y} Pers.-Nr. {r}",
                "Gehalt {mon} {y}", "LOHN {m}{y}", "Nettobezuege {mon}", "Gehaltsabrechnung {m}/{y}",
                "Vergütung {mon} {y}", "Monatsgehalt {mon}", "Abschlagszahlung Lohn {m}/{y}"],
               {"sepaPurposeCode": ["SALA", None, None]}),
    "pension": (["PENSION"], 1, (700, 2600),
                ["DEUTSCHE RENTENVERSICHERUNG", "Renten Service der Deutschen Post", "DRV Bund", "Versorgungsanstalt des Bundes und der Laender",
                 "Bayerische Versorgungskammer"],
                ["RV-Rente {m}/{y}", "Rente {mon} {y} 12345 R 012", "Altersrente {m}/{y}", "Versorgungsbezuege {mon}", "Betriebsrente {m}.{y}",
                 "RENTE {m}{y} VSNR 12 {r} M 004", "Zusatzrente VBL {m}/{y}"],
                {"sepaPurposeCode": ["PENS", None]}),
    "childbenefit": (["CHILDBENEFIT"], 1, (250, 510), ["Bundesagentur fuer Arbeit - Familienkasse", "Familienkasse Nordrhein-Westfalen Ost", "FAMILIENKASSE BAYERN SUED"],
                     ["KG {r} Kindergeld {m}/{y}", "Kindergeld {mon}", "KINDERGELD FUER {m}/{y} KG-NR. {r}", "Kindergeld + Kinderzuschlag {m}.{y}"], {}),
    "unemployment": (["UNEMPLOYMENTBENEFIT"], 1, (400, 1900), ["Bundesagentur fuer Arbeit", "Jobcenter Dortmund", "JOBCENTER BERLIN MITTE", "Agentur für Arbeit Köln"],
                     ["Arbeitslosengeld {m}/{y} BG-Nr {r}", "ALG I {mon}", "Buergergeld {m}/{y}", "Leistungen SGB II {mon} {y}", "Arbeitslosengeld I Zahlung"], {}),
    "taxrefund": (["TAXREFUND"], 1, (80, 3200), ["Finanzamt Muenchen", "FINANZAMT HAMBURG-NORD", "Finanzamt Köln-Altstadt"],
                  ["Steuererstattung {y} StNr {r}", "EST-Erstattung {y}", "Erstattung Einkommensteuer {y}", "ERSTATTUNG LT. BESCHEID {y}"], {}),
    "capitalincome": (["CAPITALINCOME"], 1, (1, 450), ["Comdirect Bank", "ING-DiBa", "Consorsbank", "Trade Republic Bank"],
                      ["Zinsgutschrift {mon}", "Dividende Allianz SE", "Ertragsgutschrift iShares Core MSCI World", "Ausschuettung Fonds {r}",
                       "Habenzinsen {m}/{y}", "Zinsen Tagesgeld {mon}"], {}),
    "rent": (["RENT"], -1, (420, 1650), ["Vonovia SE", "Hausverwaltung Krause GbR", "Wohnungsgenossenschaft Lichtenberg eG", "GEWOBAG", "Herr Dieter Brandt",
                                        "Immobilien Schmitt Verwaltung", "SAGA Unternehmensgruppe", "LEG Wohnen NRW"],
             ["Miete {mon} {y} Whg 12", "MIETE {m}/{y} HAUS 4 OG", "Mietzahlung {mon}", "Warmmiete {m}.{y}", "Miete + NK {mon}",
              "Dauerauftrag Miete", "Kaltmiete {mon} Wohnung Lindenstr. 8", "Wohnungsmiete {m}/{y}"],
             {"sepaPurposeCode": ["RENT", None, None, None]}),
    "energy": (["ENERGY"], -1, (35, 240), ["Stadtwerke Leipzig", "E.ON Energie Deutschland GmbH", "Vattenfall Europe Sales", "EnBW Energie Baden-Wuerttemberg",
                                         "LichtBlick SE", "Naturstrom AG", "Eprimo GmbH", "RheinEnergie AG", "SWM Versorgungs GmbH"],
               ["Abschlag Strom {mon} Vertragskonto {r}", "STROM ABSCHLAG {m}/{y}", "Abschlagszahlung Gas {m}.{y}", "Energie Abschlag VK {r}",
                "Erdgas Abschlag {mon}", "Fernwaerme Abschlag {m}/{y}", "Kd-Nr {r} Abschlag {m}/{y}"], {}),
    "water": (["WATER"], -1, (15, 90), ["Berliner Wasserbetriebe", "HAMBURG WASSER", "Stadtentwaesserung Dresden", "Wasserzweckverband Malchin"],
              ["Wasser Abschlag {m}/{y}", "Abwassergebuehr {mon}", "Trinkwasser Abschlag Kd {r}", "Wasser/Abwasser {m}.{y}"], {}),
    "telecom": (["TELECOMMUNICATION"], -1, (9, 80), ["Telekom Deutschland GmbH", "Vodafone GmbH", "Telefonica Germany GmbH", "1&1 Telecom GmbH",
                                                   "congstar GmbH", "freenet DLS GmbH", "Deutsche Glasfaser Wholesale", "NetCologne"],
                ["Rechnung {mon} Kundennr {r}", "Mobilfunk Rechnung {m}/{y}", "KD-NR {r} RG {m}.{y}", "Festnetz/Internet {mon}",
                 "Ihre Rechnung vom {d}.{m}.{y}", "DSL {mon} {y}", "Handyvertrag {r}"], {}),
    "broadcast": (["BROADCASTFEE"], -1, (18, 56), ["Rundfunk ARD, ZDF, DRadio", "ARD ZDF Deutschlandradio Beitragsservice"],
                  ["Rundfunkbeitrag {m}/{y} Beitragsnr. {r}", "BEITRAGSNR {r} {m}.{y}-{m}.{y}", "Rundfunkbeitr. Quartal"], {}),
    "groceries": (["GROCERIES"], -1, (4, 160), ["REWE Markt GmbH", "EDEKA Center", "ALDI SUED", "LIDL DIENSTL", "Kaufland", "PENNY", "NETTO Marken-Discount",
                                               "Bio Company", "tegut", "denns BioMarkt"],
                  ["{cp}//Berlin/DE {d}.{m}.{y}", "Kartenzahlung {cp}", "{cp} SAGT DANKE", "EC {cp} {r}", "Lastschrift Kartenzahlung {d}.{m}"],
                  {"mcc": ["5411", "5411", None]}),
    "drugstore": (["DRUGSTORE"], -1, (3, 60), ["dm-drogerie markt", "ROSSMANN", "Mueller Drogerie", "Budnikowsky"],
                  ["{cp} {d}.{m}.{y}", "Kartenzahlung {cp} Filiale {r}", "{cp} SAGT DANKE"], {"mcc": ["5912", None]}),
    "restaurants": (["RESTAURANTS"], -1, (6, 140), ["Lieferando.de", "McDonalds", "Pizzeria Da Marco", "Burger King", "Restaurant Zum Adler", "Vapiano", "Starbucks"],
                    ["{cp} {d}.{m}", "Kartenzahlung {cp}", "Bestellung {r}", "{cp} Rechnung {r}"], {"mcc": ["5812", "5814", None]}),
    "shopping": (["SHOPPING"], -1, (8, 400), ["AMAZON EU S.A R.L.", "Zalando SE", "IKEA Deutschland", "MediaMarkt", "OTTO GmbH", "H&M", "Decathlon", "Thalia"],
                 ["Bestellung {r}", "{cp} Order {r}", "Kartenzahlung {cp} {d}.{m}", "AMZN Mktp DE {r}", "Rechnungsnr. {r}"],
                 {"mcc": ["5999", "5651", "5712", None]}),
    "fuel": (["FUEL"], -1, (20, 110), ["ARAL Station", "Shell Deutschland", "ESSO Station", "TotalEnergies", "JET Tankstelle", "Star Tankstelle"],
             ["{cp} {d}.{m}.{y}", "Tankstelle {cp} Kartenzahlung", "{cp} {r}"], {"mcc": ["5541", "5542", None]}),
    "publictransport": (["PUBLICTRANSPORT"], -1, (3, 120), ["DB Fernverkehr AG", "BVG Berliner Verkehrsbetriebe", "MVG", "HVV Hamburg", "FlixMobility", "DB Vertrieb GmbH"],
                        ["Deutschlandticket {mon}", "Fahrkarte {r}", "Online-Ticket {r}", "Abo Deutschlandticket {m}/{y}", "Bahnticket {d}.{m}"],
                        {"mcc": ["4111", "4112", None]}),
    "parking": (["PARKING"], -1, (2, 30), ["APCOA Parking", "EasyPark", "Contipark", "Parkhaus am Markt"],
                ["Parken {d}.{m}.{y}", "Parkgebuehr {r}", "{cp} Parkvorgang {r}"], {"mcc": ["7523", None]}),
    "travel": (["TRAVEL"], -1, (60, 1800), ["Booking.com", "Airbnb Payments", "Deutsche Lufthansa AG", "Ryanair", "TUI Deutschland", "Eurowings"],
               ["Buchung {r}", "Reservierung Hotel {r}", "Flug {r} FRA-PMI", "Pauschalreise {r}", "{cp} {r}"], {"mcc": ["4511", "7011", "4722", None]}),
    "atm": (["ATMWITHDRAWAL"], -1, (20, 500), ["Sparkasse", "Deutsche Bank", "Commerzbank", "Postbank", ""],
            ["GA NR{r} BLZ10050000 {d}.{m}", "Bargeldauszahlung Geldautomat {r}", "Auszahlung GA {d}.{m}.{y}", "Geldautomat {r}"],
            {"bankTransactionCode": ["083", None], "mcc": ["6011", None]}),
    "bankfees": (["BANKFEES"], -1, (1, 15), ["", "Sparkasse Hannover", "Volksbank Mittelhessen"],
                 ["Kontoführungsentgelt {mon}", "Entgelt Kontoführung {m}/{y}", "Abschluss Entgelte", "Kontoentgelt {m}.{y}", "Jahresentgelt girocard"], {}),
    "cardsettlement": (["CARDSETTLEMENT"], -1, (30, 2200), ["Kreditkarte", "Barclays Bank", "DKB AG", "Amex Services Europe"],
                       ["Kreditkartenabrechnung {m}/{y}", "VISA Abrechnung {mon}", "Abrechnung Kreditkarte {r}", "Ausgleich Kreditkartenkonto {mon}"], {}),
    "taxpayment": (["TAXPAYMENT"], -1, (50, 4000), ["Finanzamt Frankfurt", "Bundeskasse Trier", "Stadtkasse Nuernberg"],
                   ["Einkommensteuer {y} StNr {r}", "Kfz-Steuer {r}", "ESt Vorauszahlung Q{q}/{y}", "Hundesteuer {y}"], {}),
    "gambling": (["GAMBLING"], -1, (5, 300), ["Tipico Co. Ltd.", "bwin", "Lottoland", "Lotto Bayern", "Merkur Spielbank"],
                 ["Einzahlung {r}", "Wetteinsatz {r}", "{cp} Deposit {r}", "Tippschein {r}"], {"mcc": ["7995", None]}),
    "debtcollection": (["DEBTCOLLECTION"], -1, (20, 600), ["EOS Deutscher Inkasso-Dienst", "Creditreform Berlin", "infoscore Forderungsmanagement", "PAIGO GmbH", "Intrum"],
                       ["Aktenzeichen {r} Rate", "Forderung {r} Zahlung", "Inkasso AZ {r}", "Ratenzahlung Vorgang {r}"], {}),
    "consumerloan": (["CONSUMERLOAN"], -1, (80, 650), ["Santander Consumer Bank AG", "TARGOBANK AG", "CreditPlus Bank", "Cofidis"],
                     ["Rate {m}/{y} Kreditvertrag {r}", "Kreditrate Vertr. {r}", "Darlehensrate {r}", "Ratenkredit {r} Rate {m}"], {}),
    "savingsplan": (["SAVINGSPLAN"], -1, (25, 500), ["Trade Republic Bank", "Comdirect Bank", "Union Investment"],
                    ["Sparplan ETF {r}", "Wertpapiersparplan {m}/{y}", "Fondssparplan Ausfuehrung {r}", "VL Sparvertrag {r}"], {}),
    "subscriptions": (["SUBSCRIPTIONS"], -1, (4, 60), ["Netflix International B.V.", "Spotify AB", "Disney Plus", "DAZN Limited", "Audible GmbH", "McFit GmbH"],
                      ["{cp} {r}", "Abo {mon}", "Mitgliedsbeitrag {m}/{y}", "Monatsabo {r}"], {}),
}

# Purposes that carry no label (private transfers, refunds, odd lines).
NOISE = [
    ("Max Mustermann", "Danke fuers Auslegen"), ("Anna Schulz", "Geschenk Hochzeit"), ("Jonas Becker", "Anteil Urlaub Mallorca"),
    ("Mama", "Taschengeld"), ("Verein Sportfreunde", "Rueckerstattung Startgebuehr"), ("Kita Sonnenschein", "Elternbeitrag Ausflug"),
    ("Paul Weber", "WG Einkauf"), ("Lena Vogel", "Pizza gestern"),
]

# Insurers as they appear on statements: (statement name, canonical provider, {type: product texts}).
INSURERS = [
    ("HUK-COBURG Versicherungsgruppe", "HUK-COBURG", {"CAR": ["Kfz-Vers. {n}", "KH/VK Beitrag {n}", "Autoversicherung Vertrag {n}"], "LIABILITY": ["PHV {n} Beitrag", "Privat-Haftpflicht {n}"], "HOUSEHOLD": ["Hausratvers. {n}"]}),
    ("Allianz Versicherungs-AG", "Allianz", {"CAR": ["Kraftfahrtversicherung VS-Nr. {n}"], "LIABILITY": ["Haftpflichtversicherung VSNR {n}"], "HOUSEHOLD": ["Hausrat VS-Nr {n}"], "BUILDING": ["Wohngebaeudeversicherung {n}"], "ACCIDENT": ["Unfallversicherung VSNR {n}"]}),
    ("AXA Versicherung AG", "AXA", {"LEGAL": ["Rechtsschutzversicherung {n}", "RS-Vers. Nr {n}"], "CAR": ["Kfz Versicherung {n}"]}),
    ("ERGO Versicherung AG", "ERGO", {"DENTAL": ["Zahnzusatzversicherung {n}", "ZahnPrivat {n} Beitrag"], "LIFE": ["Risikolebensversicherung {n}"], "TRAVEL": ["Reisekrankenversicherung {n}"]}),
    ("DEVK Allgemeine Versicherungs-AG", "DEVK", {"CAR": ["Kraftfahrt {n} Beitrag"], "HOUSEHOLD": ["Hausratversicherung Nr. {n}"]}),
    ("Debeka Krankenversicherungsverein a.G.", "Debeka", {"HEALTH": ["Krankenversicherung Beitrag {n}", "KV-Beitrag {n}"], "CARE": ["Pflegezusatzversicherung {n}"]}),
    ("Techniker Krankenkasse", "Techniker Krankenkasse", {"HEALTH": ["Beitrag freiw. Versicherung {n}", "KV/PV Beitrag Mitgl.-Nr. {n}"]}),
    ("AOK Niedersachsen", "AOK", {"HEALTH": ["Beitrag Kranken- und Pflegevers. {n}"]}),
    ("BARMER", "BARMER", {"HEALTH": ["Beitraege freiwillige Mitgliedschaft {n}"]}),
    ("ARAG SE", "ARAG", {"LEGAL": ["Rechtsschutz {n}", "ARAG Recht&Heim {n}"]}),
    ("ROLAND Rechtsschutz-Versicherungs-AG", "ROLAND Rechtsschutz", {"LEGAL": ["Vertrag {n} Beitrag"]}),
    ("Gothaer Allgemeine Versicherung AG", "Gothaer", {"LIABILITY": ["Privathaftpflicht {n}"], "HOUSEHOLD": ["Hausrat {n}"]}),
    ("Zurich Deutscher Herold Lebensversicherung", "Zurich", {"DISABILITY": ["Berufsunfaehigkeitsversicherung {n}", "BU-Vers. {n}"]}),
    ("NÜRNBERGER Lebensversicherung AG", "NÜRNBERGER", {"DISABILITY": ["BU {n} Beitrag"], "LIFE": ["Lebensversicherung {n}"]}),
    ("Barmenia Krankenversicherung AG", "Barmenia", {"DENTAL": ["Zahn-Zusatz {n}"]}),
    ("HanseMerkur Versicherung AG", "HanseMerkur", {"TRAVEL": ["Jahres-Reiseversicherung {n}"], "DENTAL": ["Zahnzusatz {n}"]}),
    ("Uelzener Allgemeine Versicherungs-Gesellschaft", "Uelzener", {"PET": ["Hunde-OP-Versicherung {n}", "Tierkrankenvers. {n}"]}),
    ("Provinzial Versicherung AG", "Provinzial", {"BUILDING": ["Gebaeudeversicherung {n}"]}),
    ("CosmosDirekt", "CosmosDirekt", {"LIFE": ["Risiko-Lebensvers. {n}"]}),
    ("R+V Allgemeine Versicherung AG", "R+V", {"CAR": ["Kfz-Versicherung {n}"], "BUILDING": ["Wohngebaeude {n}"]}),
    ("SIGNAL IDUNA Krankenversicherung a.G.", "SIGNAL IDUNA", {"HEALTH": ["Krankenzusatzversicherung {n}"]}),
    ("Continentale Krankenversicherung a.G.", "Continentale", {"HEALTH": ["Krankheitskostenvers. {n}"]}),
    ("WGV Versicherung AG", "WGV", {"CAR": ["Kfz {n}"]}),
    ("Hallesche Krankenversicherung", "Hallesche", {"CARE": ["Pflegetagegeld {n}"]}),
]
FREQ_MONTHS = {"MONTHLY": 1, "QUARTERLY": 3, "HALF_YEARLY": 6, "YEARLY": 12}
MONTHS_DE = ["Januar", "Februar", "Maerz", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober", "November", "Dezember"]
START = date(2025, 11, 1)


def fill(t, d):
    return t.format(m=f"{d.month:02d}", y=d.year, mon=MONTHS_DE[d.month - 1], d=f"{d.day:02d}", r=ref(), q=(d.month - 1) // 3 + 1, cp="{cp}", n="{n}")


def main():
    os.makedirs(OUT, exist_ok=True)
    rows = {"dev": [], "heldout": []}
    tid = 0
    for u in range(1, 361):
        user = f"u{u:04d}"
        split = "heldout" if u % 5 == 0 else "dev"
        acc = f"{user}-giro"
        txs = []
        # Everyday transactions: a handful of categories per user.
        for cat in R.sample(sorted(CATEGORIES), 9):
            labels, sign, (lo, hi), cps, purposes, extra = CATEGORIES[cat]
            for _ in range(R.randint(1, 3)):
                d = START + timedelta(days=R.randrange(0, 360))
                cp = R.choice(cps)
                purpose = fill(R.choice(purposes), d).replace("{cp}", cp)
                t = {"counterpartName": styled(cp) if cp else None, "purpose": styled(purpose), "bookingDate": d.isoformat(),
                     "amount": f"{sign * R.uniform(lo, hi):.2f}", "expectedLabels": labels}
                for k, vals in extra.items():
                    v = R.choice(vals)
                    if v:
                        t[k] = v
                txs.append(t)
        for _ in range(R.randint(0, 2)):
            cp, purpose = R.choice(NOISE)
            d = START + timedelta(days=R.randrange(0, 360))
            txs.append({"counterpartName": cp, "purpose": purpose, "bookingDate": d.isoformat(),
                        "amount": f"{R.choice([-1, 1]) * R.uniform(5, 200):.2f}", "expectedLabels": []})
        # Insurance contracts: 0–3 per user, 12 months of payments.
        for ci in range(R.choice([0, 1, 1, 2, 2, 3])):
            name, provider, products = R.choice(INSURERS)
            itype = R.choice(sorted(products))
            freq = R.choice(["MONTHLY", "MONTHLY", "QUARTERLY", "HALF_YEARLY", "YEARLY"])
            step = FREQ_MONTHS[freq]
            number = ref(R.choice([7, 8, 10]))
            premium = round(R.uniform(6, 90) * step, 2)
            creditor = R.random() < 0.6
            first = START + timedelta(days=R.randrange(0, 28))
            product = R.choice(products[itype]).replace("{n}", number)
            contract = {"user": user, "provider": provider, "insuranceType": itype, "frequency": freq, "amount": f"{premium:.2f}"}
            k = 0
            while True:
                mo = first.month - 1 + k * step
                d = date(first.year + mo // 12, mo % 12 + 1, min(first.day, 28))
                # Weekend shift as banks book.
                d += timedelta(days={5: 2, 6: 1}.get(d.weekday(), 0))
                if d >= START + timedelta(days=365):
                    break
                t = {"counterpartName": styled(name), "purpose": styled(product + R.choice(["", f" {d.month:02d}/{d.year}", " Beitrag", " Folgelastschrift"])),
                     "bookingDate": d.isoformat(), "amount": f"{-premium:.2f}",
                     "expectedLabels": [{"CAR": "CARINSURANCE", "LIABILITY": "LIABILITYINSURANCE", "HOUSEHOLD": "HOUSEHOLDINSURANCE",
                                         "BUILDING": "BUILDINGINSURANCE", "LEGAL": "LEGALINSURANCE", "DISABILITY": "DISABILITYINSURANCE",
                                         "ACCIDENT": "ACCIDENTINSURANCE", "TRAVEL": "TRAVELINSURANCE", "PET": "PETINSURANCE",
                                         "DENTAL": "DENTALINSURANCE", "CARE": "CAREINSURANCE", "LIFE": "LIFEINSURANCE",
                                         "HEALTH": "HEALTHINSURANCE"}[itype]],
                     "contract": contract, "sepaPurposeCode": "INSU" if R.random() < 0.3 else None}
                if creditor:
                    t["creditorId"] = f"DE{ci}{u % 10}ZZZ{number[:8]:0>8}000"
                    t["mandateReference"] = f"M{number}"
                txs.append(t)
                k += 1
        txs.sort(key=lambda t: t["bookingDate"])
        for t in txs:
            tid += 1
            t = {k: v for k, v in t.items() if v is not None}
            rows[split].append({"id": f"e{tid:05d}", "userId": user, "accountId": acc, "currency": "EUR", **t})
    for split, items in rows.items():
        with open(os.path.join(OUT, f"{split}.jsonl"), "w", encoding="utf-8") as f:
            for r in items:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
        ins = sum(1 for r in items if "contract" in r)
        contracts = len({json.dumps(r["contract"], sort_keys=True) for r in items if "contract" in r})
        print(f"{split}: {len(items)} transactions, {ins} insurance payments, {contracts} contracts")


if __name__ == "__main__":
    main()
