"""NHS numbers: Modulus 11, as property tests over every valid number hypothesis finds."""

from hypothesis import assume, given
from hypothesis import strategies as st

from referrals.nhs_number import nhs_check_digit, nhs_number_is_valid, normalise_nhs_number

nine_digits = st.text(alphabet="0123456789", min_size=9, max_size=9)


@st.composite
def valid_nhs_numbers(draw) -> str:
    first_nine = draw(nine_digits)
    check = nhs_check_digit(first_nine)
    assume(check is not None)
    number = first_nine + str(check)
    assume(number != "0000000000")
    return number


@given(valid_nhs_numbers())
def test_it_accepts_every_valid_number(number):
    assert nhs_number_is_valid(number)
    assert normalise_nhs_number(f"{number[:3]} {number[3:6]} {number[6:]}") == number


@given(valid_nhs_numbers(), st.integers(0, 9), st.integers(1, 9))
def test_it_rejects_every_single_digit_change(number, position, shift):
    changed = str((int(number[position]) + shift) % 10)
    mistyped = number[:position] + changed + number[position + 1 :]
    assert not nhs_number_is_valid(mistyped)


@given(valid_nhs_numbers(), st.integers(0, 8))
def test_it_rejects_every_swap_of_two_adjacent_different_digits(number, position):
    assume(number[position] != number[position + 1])
    swapped = number[:position] + number[position + 1] + number[position] + number[position + 2 :]
    assert not nhs_number_is_valid(swapped)


@given(st.text(alphabet="0123456789", min_size=8, max_size=8))
def test_it_rejects_numbers_whose_check_digit_would_be_ten(first_eight):
    # About one nine-digit start in eleven has no usable check digit; find one near this.
    unusable = [first_eight + d for d in "0123456789" if nhs_check_digit(first_eight + d) is None]
    assume(unusable)
    assert not any(nhs_number_is_valid(unusable[0] + str(d)) for d in range(10))


def test_it_rejects_all_zeros_although_the_arithmetic_passes():
    assert nhs_check_digit("000000000") == 0
    assert not nhs_number_is_valid("0000000000")


def test_it_rejects_wrong_lengths_and_letters():
    assert not nhs_number_is_valid("943476591")
    assert not nhs_number_is_valid("94347659190")
    assert not nhs_number_is_valid("943476591X")
    assert not nhs_number_is_valid("９４３４７６５９１９")  # full-width digits are not ASCII
    assert normalise_nhs_number("943-476-5919") == "9434765919"
