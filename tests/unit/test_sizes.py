"""One size rule for the whole interface (contracts.sizes): GiB = 2^30, GB = 10^9, a bare letter
is refused. `--size` and option values both read sizes with it."""
import random

import pytest

from contracts.sizes import GB, KB, TB, UNITS, GiB, KiB, MiB, PiB, SizeError, TiB, format_size, parse_size, spell_size


@pytest.mark.parametrize("text, expected", [
    ("100GiB", 100 * GiB),
    ("10gib", 10 * GiB),
    ("10Gi", 10 * GiB),
    ("512MiB", 512 * MiB),
    ("1TiB", TiB),
    ("1PiB", PiB),
    ("1.5GiB", 3 * GiB // 2),
    ("1.5 GiB", 3 * GiB // 2),
    (" 2 TiB ", 2 * TiB),
    ("10GB", 10 * 10**9),
    ("10gb", 10 * 10**9),
    ("1KB", 1000),
    ("1.5TB", 15 * 10**11),
    ("1KiB", 1024),
    ("2048", 2048),
    ("2048B", 2048),
    ("2048b", 2048),
    (".5KiB", 512),
    ("1.3KiB", 1332),  # 1331.2 bytes rounded up
])
def test_parse_size(text, expected):
    assert parse_size(text) == expected


@pytest.mark.parametrize("unit", sorted(UNITS))
def test_every_unit_in_any_case(unit):
    assert parse_size(f"3{unit}") == parse_size(f"3{unit.lower()}") == parse_size(f"3{unit.upper()}") == 3 * UNITS[unit]


def test_decimal_and_binary_units_differ():
    assert parse_size("1GB") == 10**9 and parse_size("1GiB") == 2**30
    assert parse_size("256MB") == 256 * 10**6 and parse_size("256MiB") == 256 * 2**20


@pytest.mark.parametrize("text, match", [
    ("", "invalid size"),
    ("abc", "invalid size"),
    ("GiB", "invalid size"),
    ("10XB", "unknown unit"),
    ("10 GiBs", "unknown unit"),
    ("0", "greater than zero"),
    ("0GiB", "greater than zero"),
    ("0.0TiB", "greater than zero"),
    ("-5GiB", "negative"),
    ("1e9", "invalid size"),
    ("1,5GiB", "invalid size"),
    ("nan", "invalid size"),
    ("\u0661\u0660GiB", "invalid size"),  # Arabic-Indic digits: Python's int() reads them, C does not
])
def test_parse_size_refuses(text, match):
    with pytest.raises(SizeError, match=match) as e:
        parse_size(text)
    assert "e.g. 100GiB" in str(e.value)
    assert "GiB" in str(e.value) and "GB" in str(e.value)


@pytest.mark.parametrize("text, binary, decimal", [
    ("10G", "10GiB", "10GB"), ("512m", "512MiB", "512MB"), ("1K", "1KiB", "1KB"), ("2 T", "2TiB", "2TB"),
    ("1.5p", "1.5PiB", "1.5PB"),
])
def test_a_bare_letter_is_refused_naming_both_spellings(text, binary, decimal):
    with pytest.raises(SizeError, match="ambiguous") as e:
        parse_size(text)
    assert binary in str(e.value) and decimal in str(e.value)
    assert "powers of 1024" in str(e.value) and "powers of 1000" in str(e.value)


def test_zero_and_fractions_of_a_byte_on_request():
    assert parse_size("0", allow_zero=True) == 0
    assert parse_size("0KiB", allow_zero=True) == 0
    assert parse_size("1.5KiB", whole_bytes=True) == 1536
    assert parse_size("0.001KB", whole_bytes=True) == 1
    with pytest.raises(SizeError, match="1331.2 bytes, not a whole number"):
        parse_size("1.3KiB", whole_bytes=True)
    with pytest.raises(SizeError, match="negative"):
        parse_size("-1", allow_zero=True)


def test_format_size():
    assert format_size(34 * GiB) == "34.0 GiB"
    assert format_size(512) == "512 B"
    assert format_size(0) == "0 B"
    assert format_size(None) == "-"
    assert format_size(1536.0) == "1.5 KiB"
    assert format_size(int(33.34 * GiB), round_up=True) == "33.4 GiB"
    assert format_size(int(33.34 * GiB)) == "33.3 GiB"
    assert format_size(2048 * PiB) == "2.0 EiB"
    assert format_size(10**9) == "953.7 MiB"  # binary units for people: 1GB is less than 1GiB


@pytest.mark.parametrize("n, text", [
    (0, "0"), (1, "1"), (1000, "1KB"), (KiB, "1KiB"), (512 * KiB, "512KiB"), (4 * MiB, "4MiB"), (GiB, "1GiB"),
    (GB, "1GB"), (TB, "1TB"), (4 * TiB, "4TiB"), (500 * 10**6, "500MB"), (1234567, "1234567"), (1500 * KB, "1500KB"),
])
def test_spell_size_is_exact_and_short(n, text):
    assert spell_size(n) == text
    assert parse_size(text, allow_zero=True) == n


def test_spell_size_reads_back_as_the_same_number():
    rng = random.Random(7)
    samples = [rng.randrange(0, 2**63) for _ in range(500)]
    samples += [rng.randrange(1, 10**6) * rng.choice(list(UNITS.values())) for _ in range(500)]
    for n in samples:
        assert parse_size(spell_size(n), allow_zero=True, whole_bytes=True) == n


def test_arithmetic_is_exact_however_many_digits():
    assert parse_size("12345678901234567890123456789") == 12345678901234567890123456789  # beyond a float, beyond
    assert parse_size("1.00000000000000000000000000001KiB") == 1025  # Decimal's default 28 digits
    with pytest.raises(SizeError, match="1024.00000000000000000000000001024 bytes, not a whole number"):
        parse_size("1.00000000000000000000000000001KiB", whole_bytes=True)
    with pytest.raises(SizeError, match="more than 40 digits"):
        parse_size("9" * 41)
