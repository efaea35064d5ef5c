"""Vocabularies and vectorised string building (pyarrow compute, no per-row Python).

Why: the large scale makes millions of names, emails and subjects; `pc.take` from a small
vocabulary plus `binary_join_element_wise` builds them in C.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


FIRST_NAMES = _words(
    "James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara Richard Susan "
    "Joseph Jessica Thomas Sarah Charles Karen Daniel Lisa Matthew Nancy Anthony Sandra Mark Ashley Paul "
    "Emily Steven Donna Andrew Michelle Joshua Carol Kevin Amanda Brian Melissa Laura Olivia Lucas Sofia "
    "Noah Emma Liam Mia Hiroshi Yuki Pierre Camille Hans Greta Priya Arjun Chen Wei Fatima Omar"
)
LAST_NAMES = _words(
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez Gonzalez "
    "Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris Sanchez Clark "
    "Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill Flores Green Adams "
    "Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts Tanaka Suzuki Dubois Laurent Muller "
    "Schmidt Patel Sharma Wang Li Haddad Okafor"
)
COMPANY_HEADS = _words(
    "Acme Globex Initech Umbrella Stark Wayne Wonka Tyrell Cyberdyne Soylent Hooli Vandelay Massive "
    "Dunder Pied Gringotts Oscorp Aperture Black Mesa Blue Sun Monarch Nakatomi Virtucon Zorg Gekko "
    "Prestige Sterling Summit Apex Pinnacle Vertex Horizon Northwind Contoso Fabrikam Tailspin Litware "
    "Adventure Proseware Lucerne Alpine Coho Fourth Wingtip Trey Humongous Margie Woodgrove Bellows "
    "Silver Golden Iron Crystal Granite Cedar Maple Oak Willow Harbor River Lake Ocean Stellar Quantum"
)
COMPANY_CORES = _words(
    "Systems Industries Labs Dynamics Logistics Health Foods Energy Analytics Robotics Media Capital "
    "Networks Software Pharma Motors Retail Partners Solutions Holdings Foods Textiles Aerospace Bio"
)
COMPANY_SUFFIXES = ("Inc", "LLC", "Ltd", "GmbH", "SA", "Corp", "PLC", "Group", "Co", "AG")
INDUSTRIES = (
    "Technology", "Manufacturing", "Healthcare", "Financial Services", "Retail", "Education",
    "Energy", "Media", "Transportation", "Hospitality", "Government", "Telecommunications",
)
PRODUCTS = (
    "Platform Subscription", "Analytics Add-on", "Enterprise License", "Onboarding Services",
    "Support Upgrade", "Seat Expansion", "API Package", "Data Integration", "Premium Tier", "Pilot",
)
EMAIL_DOMAINS = ("example.com", "example.org", "example.net", "mail.example", "corp.example")
TEAM_CITIES = (
    "Boston", "Austin", "Denver", "Chicago", "Seattle", "Toronto", "London", "Paris", "Berlin",
    "Madrid", "Dublin", "Tokyo", "Sydney", "Singapore", "Mumbai", "Sao Paulo", "Mexico City", "Atlanta",
)
REGIONS = ("North America", "EMEA", "APAC", "LATAM")
SUBJECTS = {
    "call": ("Discovery call", "Follow-up call", "Pricing call", "Check-in call", "Cold call"),
    "email": ("Intro email", "Proposal sent", "Follow-up email", "Meeting recap", "Contract questions"),
    "meeting": ("Demo", "Kick-off meeting", "Quarterly business review", "Technical deep dive", "Onsite visit"),
    "task": ("Prepare quote", "Update CRM notes", "Send case study", "Schedule demo", "Review contract"),
}
COMMENTS = {
    "detractor": ("Support was slow to respond", "Too expensive for what we get", "Onboarding was painful"),
    "passive": ("Works fine overall", "Some features are missing", "Decent, could be easier"),
    "promoter": ("Great product and team", "Our rep is fantastic", "Saved us hours every week"),
}


def take(values: tuple[str, ...] | list[str], indices: np.ndarray) -> pa.Array:
    """Strings `values[indices]` built in Arrow."""
    return pc.take(pa.array(values, pa.string()), pa.array(indices, pa.int64()))


def join(*parts: pa.Array | str) -> pa.Array:
    """Element-wise concatenation of string arrays and literals."""
    return pc.binary_join_element_wise(*parts, "")


def numbers(values: np.ndarray) -> pa.Array:
    """Integers as strings."""
    return pc.cast(pa.array(values, pa.int64()), pa.string())


def company_names(rng: np.random.Generator, n: int) -> pa.Array:
    """Company names, distinct for the first heads x cores x suffixes rows, numbered after that."""
    radix = (len(COMPANY_HEADS), len(COMPANY_CORES), len(COMPANY_SUFFIXES))
    codes = rng.permutation(max(n, radix[0] * radix[1] * radix[2]))[:n]
    head = codes % radix[0]
    core = (codes // radix[0]) % radix[1]
    suffix = (codes // (radix[0] * radix[1])) % radix[2]
    names = join(take(COMPANY_HEADS, head), " ", take(COMPANY_CORES, core), " ", take(COMPANY_SUFFIXES, suffix))
    lap = codes // (radix[0] * radix[1] * radix[2])
    if lap.max(initial=0) > 0:
        tail = pc.if_else(pa.array(lap > 0), join(" ", numbers(lap + 1)), "")
        names = join(names, tail)
    return names


def slug(values: pa.Array) -> pa.Array:
    """Lower-case ASCII token for emails (spaces and dashes dropped)."""
    return pc.replace_substring_regex(pc.utf8_lower(values), r"[^a-z0-9]", "")
