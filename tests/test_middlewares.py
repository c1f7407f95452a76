from ipaddress import IPv4Address, IPv6Address

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newscrawl.netguard import is_public_address


@pytest.mark.parametrize(
    "address", ["127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254",
                "100.64.0.1", "0.0.0.0", "::1", "fe80::1", "fc00::1", "::ffff:127.0.0.1",
                "224.0.0.1", "fd00:ec2::254"],
)  # fmt: skip
def test_internal_addresses_are_not_public(address):
    assert not is_public_address(address)


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111"])
def test_internet_addresses_are_public(address):
    assert is_public_address(address)


# IPv6 forms that reach an IPv4 address: the embedded address decides -------------------
def teredo(server: str, client: str) -> str:
    """Teredo address (2001::/32) of ``client`` (stored bit-inverted) via ``server``."""
    flags, port = 0x8000, 0xFFFF ^ 40000
    client_bits = int(IPv4Address(client)) ^ 0xFFFFFFFF
    server_bits = int(IPv4Address(server))
    return str(IPv6Address((0x20010000 << 96) | (server_bits << 64) | (flags << 48)
                           | (port << 32) | client_bits))  # fmt: skip


EMBEDDINGS = {
    "ipv4-mapped": lambda v4: f"::ffff:{v4}",
    "ipv4-compatible": lambda v4: f"::{v4}",
    "nat64": lambda v4: str(IPv6Address(int(IPv6Address("64:ff9b::")) | int(v4))),
    "6to4": lambda v4: str(IPv6Address((0x2002 << 112) | (int(v4) << 80) | 1)),
    "teredo-client": lambda v4: teredo("65.54.227.120", str(v4)),
}


@pytest.mark.parametrize(
    "address", ["::127.0.0.1", "::a9fe:a9fe", "64:ff9b::a9fe:a9fe", "64:ff9b::7f00:1",
                "64:ff9b::a00:1", "2002:7f00:1::", "2002:a9fe:a9fe::1", "2002:c0a8:101::1",
                teredo("65.54.227.120", "127.0.0.1"), "fec0::1", "feff::1",
                "64:ff9b:1::808:808"],
)  # fmt: skip
def test_ipv6_forms_of_internal_ipv4_and_site_local_addresses_are_not_public(address):
    assert not is_public_address(address)


@pytest.mark.parametrize("address", ["::ffff:8.8.8.8", "64:ff9b::808:808"])
def test_ipv6_forms_of_public_ipv4_addresses_stay_public(address):
    assert is_public_address(address)


@settings(max_examples=400, deadline=None)
@given(v4=st.ip_addresses(v=4), form=st.sampled_from(sorted(EMBEDDINGS)))
def test_an_embedded_internal_ipv4_address_is_never_public(v4, form):
    embedded = EMBEDDINGS[form](v4)
    assert IPv6Address(embedded)  # a valid IPv6 address
    if not is_public_address(str(v4)):
        assert not is_public_address(embedded), (form, embedded)
    if form in ("ipv4-mapped", "nat64"):
        assert is_public_address(embedded) == is_public_address(str(v4)), (form, embedded)
