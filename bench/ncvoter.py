"""A synthetic North Carolina voter file in the exact published layout: 67 double-quoted,
tab-separated columns with a header, realistic empty-value rates, Spanish and Vietnamese names
with accents, and shared addresses so households hold several voters.

`python -m bench.ncvoter N PATH [--seed S]` writes N rows to PATH.
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

COLUMNS = (
    "county_id county_desc voter_reg_num ncid last_name first_name middle_name name_suffix_lbl "
    "status_cd voter_status_desc reason_cd voter_status_reason_desc res_street_address "
    "res_city_desc state_cd zip_code mail_addr1 mail_addr2 mail_addr3 mail_addr4 mail_city "
    "mail_state mail_zipcode full_phone_number confidential_ind registr_dt race_code "
    "ethnic_code party_cd gender_code birth_year age_at_year_end birth_state drivers_lic "
    "precinct_abbrv precinct_desc municipality_abbrv municipality_desc ward_abbrv ward_desc "
    "cong_dist_abbrv super_court_abbrv judic_dist_abbrv nc_senate_abbrv nc_house_abbrv "
    "county_commiss_abbrv county_commiss_desc township_abbrv township_desc school_dist_abbrv "
    "school_dist_desc fire_dist_abbrv fire_dist_desc water_dist_abbrv water_dist_desc "
    "sewer_dist_abbrv sewer_dist_desc sanit_dist_abbrv sanit_dist_desc rescue_dist_abbrv "
    "rescue_dist_desc munic_dist_abbrv munic_dist_desc dist_1_abbrv dist_1_desc vtd_abbrv "
    "vtd_desc"
).split()
assert len(COLUMNS) == 67

FAMILY = (
    "SMITH JOHNSON WILLIAMS BROWN JONES GARCIA MILLER DAVIS RODRIGUEZ MARTINEZ HERNANDEZ "
    "LOPEZ GONZALEZ WILSON ANDERSON THOMAS TAYLOR MOORE JACKSON MARTIN LEE THOMPSON WHITE "
    "HARRIS CLARK LEWIS ROBINSON WALKER YOUNG ALLEN KING WRIGHT SCOTT TORRES NGUYEN HILL "
    "FLORES GREEN ADAMS NELSON BAKER HALL RIVERA CAMPBELL MITCHELL CARTER ROBERTS O'BRIEN"
).split() + ["MUÑOZ", "PEÑA", "NÚÑEZ", "IBÁÑEZ", "NGUYỄN", "TRẦN", "LÊ", "PHẠM", "HUỲNH", "VÕ"]
GIVEN = (
    "JAMES MARY ROBERT PATRICIA JOHN JENNIFER MICHAEL LINDA DAVID ELIZABETH WILLIAM BARBARA "
    "RICHARD SUSAN JOSEPH JESSICA THOMAS SARAH CHARLES KAREN MARIA JUAN ANA LUIS CARMEN "
    "MIGUEL ROSA JORGE LUCIA PEDRO"
).split() + ["JOSÉ", "MARÍA", "JESÚS", "RAMÓN", "SOFÍA", "ANH", "THẢO", "ĐỨC", "HƯƠNG", "QUỐC"]
STREETS = "MAIN OAK PINE MAPLE CEDAR ELM WASHINGTON LAKE HILL PARK".split()
KINDS = ("ST", "AVE", "RD", "DR", "LN", "CT", "BLVD", "WAY")
CITIES = (
    ("DURHAM", "27701"),
    ("RALEIGH", "27601"),
    ("CHARLOTTE", "28202"),
    ("GREENSBORO", "27401"),
)
PARTIES = ("DEM", "REP", "UNA", "LIB", "GRE")


def rows(n: int, seed: int = 1):
    """Yield n rows of 67 values."""
    rng = random.Random(seed)
    r = rng.random
    households = max(1, n // 2)  # about two voters per address
    for i in range(n):
        home = int(r() * households)
        hrng = random.Random(home * 7919 + seed)
        city, zip_code = CITIES[home % len(CITIES)]
        street = f"{100 + hrng.randrange(9900)} {hrng.choice(STREETS)} {hrng.choice(KINDS)}"
        if hrng.random() < 0.2:
            street += f" APT {1 + hrng.randrange(30)}"
        precinct = "" if hrng.random() < 0.11 else f"{city[:2]}{home % 97:02d}"
        ward = "" if hrng.random() < 0.6 else f"W{home % 9 + 1}"
        family = FAMILY[int(r() * len(FAMILY))] if r() < 0.7 else hrng.choice(FAMILY)
        given = GIVEN[int(r() * len(GIVEN))]
        middle = "" if r() < 0.07 else GIVEN[int(r() * len(GIVEN))]
        suffix = "" if r() < 0.95 else "JR"
        phone = "" if r() < 0.58 else f"919{2000000 + int(r() * 7999999):07d}"
        year = 1930 + int(r() * 75)
        values = [""] * 67
        number = seed * 10_000_000 + i
        values[0:16] = [
            "32", city, str(number), f"EH{number}", family, given, middle, suffix,
            "A", "ACTIVE", "AV", "VERIFIED", street, city, "NC", zip_code,
        ]  # fmt: skip
        values[23] = phone
        values[24] = "N"
        values[25] = f"{1 + int(r() * 12):02d}/{1 + int(r() * 28):02d}/{1970 + int(r() * 52)}"
        values[26], values[27] = "W", "NL"
        values[28] = PARTIES[int(r() * len(PARTIES))]
        values[29] = "F" if r() < 0.5 else "M"
        values[30], values[31] = str(year), str(2022 - year)
        values[34], values[35] = precinct, f"PRECINCT {precinct}" if precinct else ""
        values[38], values[39] = ward, f"WARD {ward}" if ward else ""
        values[40], values[43], values[44] = "1", "20", "31"
        if r() < 0.05:
            values[51], values[52] = "F1", "FIRE ONE"
        values[65], values[66] = precinct, precinct
        yield values


def write(path: Path, n: int, seed: int = 1) -> Path:
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("\t".join(f'"{c}"' for c in COLUMNS) + "\r\n")
        for values in rows(n, seed):
            out.write("\t".join(f'"{v}"' for v in values) + "\r\n")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("n", type=int)
    parser.add_argument("path", type=Path)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    write(args.path, args.n, args.seed)


if __name__ == "__main__":
    main()
