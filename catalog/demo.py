"""A realistic demo landscape, loaded through the services exactly as an operator's import would be.

Five agencies share health, housing and city data. Agencies, people, statutes and figures are fictional.

People to try (`catalog token issue --person ID`):

| id            | agency | roles                    | data-ethics training |
|---------------|--------|--------------------------|----------------------|
| admin         | stats  | PLATFORM_ADMIN           | current              |
| auditor       | stats  | AUDITOR                  | current              |
| alice.health  | health | DATA_OWNER               | current              |
| hamid.health  | health | STEWARD                  | current              |
| grace.health  | health | APPROVER                 | current              |
| samira.social | social | DATA_OWNER, APPROVER     | current              |
| tom.social    | social | STEWARD                  | current              |
| nora.social   | social | ANALYST                  | current              |
| priya.stats   | stats  | DATA_OWNER, STEWARD      | current              |
| ben.stats     | stats  | ANALYST                  | current              |
| carla.city    | city   | DATA_OWNER, STEWARD      | current              |
| dan.city      | city   | ANALYST                  | EXPIRED              |
| uma.uni       | uni    | ANALYST                  | current              |
| rui.uni       | uni    | ANALYST                  | none                 |

Lineage: hospital admissions (special category) -> DEIDENTIFY (attested by hamid.health) -> research extract
-> AGGREGATE (attested by priya.stats) -> open hospital activity statistics; admissions + housing case records
-> LINK -> linked research cohort; council service requests -> TRANSFORM -> open service requests.
Agreements signed on paper and imported by the administrator: health -> uni research extract (ACTIVE), social ->
city housing cases (EXPIRED), social -> stats housing cases (revoked through the workflow), health -> stats
admissions for linkage (ACTIVE). Then the sharing workflow, access decisions and a correction, as the people
themselves would make them: see `catalog.demo_history`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from catalog.demo_history import (
    COUNCIL_FUNCTIONS,
    HEALTH_RESEARCH,
    INTEGRATION_ACT,
    Stage,
    make_agreements,
    public_task,
    use_and_correct,
)
from catalog.domain import Identifiability, Person, Role
from catalog.principal import SYSTEM, Principal
from catalog.services import Services

ADMIN_ID = "admin"
DAY = timedelta(days=1)
YEAR = 365 * DAY

AGENCIES: list[dict[str, Any]] = [
    {"id": "health", "name": "Department of Health"},
    {"id": "social", "name": "Department of Social Services"},
    {"id": "stats", "name": "National Statistics Office"},
    {"id": "city", "name": "Riverton City Council", "kind": "LOCAL_GOVERNMENT"},
    {"id": "uni", "name": "Northbridge University, Centre for Population Health Research", "kind": "RESEARCH_PARTNER"},
]

# (id, name, agency, roles, training: "current" | "expired" | None)
PersonSpec = tuple[str, str, str, list[Role], str | None]
STAFF: list[PersonSpec] = [
    ("auditor", "Olumide Adeyemi", "stats", [Role.AUDITOR], "current"),
    ("alice.health", "Alice Nguyen", "health", [Role.DATA_OWNER], "current"),
    ("hamid.health", "Hamid Rahimi", "health", [Role.STEWARD], "current"),
    ("grace.health", "Grace Liu", "health", [Role.APPROVER], "current"),
    ("samira.social", "Samira Haddad", "social", [Role.DATA_OWNER, Role.APPROVER], "current"),
    ("tom.social", "Tomasz Kowalski", "social", [Role.STEWARD], "current"),
    ("nora.social", "Nora Ahmed", "social", [Role.ANALYST], "current"),
    ("priya.stats", "Priya Raman", "stats", [Role.DATA_OWNER, Role.STEWARD], "current"),
    ("ben.stats", "Ben Carter", "stats", [Role.ANALYST], "current"),
    ("carla.city", "Carla Mendes", "city", [Role.DATA_OWNER, Role.STEWARD], "current"),
    ("dan.city", "Dan O'Brien", "city", [Role.ANALYST], "expired"),
    ("uma.uni", "Dr Uma Patel", "uni", [Role.ANALYST], "current"),
    ("rui.uni", "Rui Costa", "uni", [Role.ANALYST], None),
]
ADMIN: PersonSpec = (ADMIN_ID, "Platform Administrator", "stats", [Role.PLATFORM_ADMIN], "current")


# The purposes most of the landscape may serve: every one in the default vocabulary but law enforcement.
ANY_BUT_LAW_ENFORCEMENT = ["SERVICE_DELIVERY", "POLICY_AND_PROGRAMS", "RESEARCH", "STATISTICS"]


def _columns(table: str) -> list[dict[str, Any]]:
    """A dataset's fields from a table of one field a line: name, type, personal-information tag, description."""
    rows = (line.split(maxsplit=3) for line in table.strip().splitlines())
    return [
        {"name": name, "type": kind, "description": description, "pii": pii} for name, kind, pii, description in rows
    ]


ADMISSIONS: dict[str, Any] = {
    "id": "health.admissions",
    "title": "Hospital Admitted Patient Care",
    "description": "One record per episode of admitted care in public hospitals: who was admitted, when, where, "
    "with which principal diagnosis and procedures.",
    "owner_agency_id": "health",
    "classification": "PROTECTED",
    "personal_data": "SPECIAL_CATEGORY",
    "identifiability": "IDENTIFIED",
    "legal_basis": public_task(
        "Health Records Act 2001 s. 14 (mandatory hospital reporting); GDPR Art. 9(2)(h)", covers_identified=True
    ),
    "permitted_purposes": ANY_BUT_LAW_ENFORCEMENT,
    "retention_days": 15 * 365,
    "collection_method": "Extracted nightly from public hospital patient administration systems.",
    "consent_notes": "Consent is not sought: reporting is mandatory under the Act. Patients are told of it in "
    "hospital privacy notices.",
    "known_limitations": "Private hospitals are not included. Diagnosis coding lags discharge by up to six weeks. "
    "Indigenous status is under-recorded (about 15% of episodes unknown).",
    "quality_status": "VALIDATED",
    "tags": ["health", "hospitals", "admissions", "icd-10"],
    "fields": _columns(
        """
        patient_id           string  DIRECT_IDENTIFIER  Hospital-assigned patient number
        health_card_number   string  DIRECT_IDENTIFIER  Public health insurance number
        date_of_birth        date    QUASI_IDENTIFIER   Date of birth
        sex                  string  QUASI_IDENTIFIER   Sex as recorded at admission
        postcode             string  QUASI_IDENTIFIER   Usual residence postcode
        admission_date       date    NONE               Date of admission
        separation_date      date    NONE               Date of discharge, transfer or death
        principal_diagnosis  string  SENSITIVE          ICD-10-AM principal diagnosis code
        procedure_codes      list    SENSITIVE          ACHI procedure codes
        hospital_code        string  NONE               Reporting hospital
        """
    ),
}

HOUSING: dict[str, Any] = {
    "id": "social.housing-cases",
    "title": "Social Housing Case Records",
    "description": "Applications for social housing and their outcomes: household circumstances, priority "
    "assessment and tenancy offers.",
    "owner_agency_id": "social",
    "classification": "OFFICIAL_SENSITIVE",
    "personal_data": "PERSONAL",
    "identifiability": "IDENTIFIED",
    "legal_basis": public_task(
        "Housing Act 1983 s. 24 (assessment of eligibility for social housing)", covers_identified=True
    ),
    "permitted_purposes": ["SERVICE_DELIVERY", "POLICY_AND_PROGRAMS", "RESEARCH"],
    "retention_days": 7 * 365,
    "collection_method": "Entered by case workers from application forms and interviews.",
    "consent_notes": "Applicants are told at application that details may be used to plan housing services.",
    "known_limitations": "Only people who applied are recorded; hidden homelessness is not captured. Priority "
    "categories were redefined in 2019, which breaks the series.",
    "quality_status": "UNDER_REVIEW",
    "tags": ["housing", "homelessness", "social-services"],
    "fields": _columns(
        """
        client_id          string   DIRECT_IDENTIFIER  Department client number
        full_name          string   DIRECT_IDENTIFIER  Applicant's name
        date_of_birth      date     QUASI_IDENTIFIER   Applicant's date of birth
        address            string   DIRECT_IDENTIFIER  Current address, if any
        household_size     integer  NONE               People in the household
        income_band        string   SENSITIVE          Household income band
        priority_category  string   NONE               Assessed priority (1 = urgent)
        housing_status     string   NONE               Outcome: housed, waiting, withdrawn
        case_opened        date     NONE               Date the application was lodged
        """
    ),
}

DEIDENTIFIED: dict[str, Any] = {
    "id": "health.admissions-deid",
    "title": "Hospital Admissions, De-identified Research Extract",
    "description": "Admitted care episodes with direct identifiers removed, dates coarsened to months, age "
    "banded and residence generalised to region. Released only into the secure research enclave.",
    "owner_agency_id": "health",
    "classification": "OFFICIAL_SENSITIVE",
    "personal_data": "NONE",
    "identifiability": "DEIDENTIFIED",
    "legal_basis": public_task("Health Records Act 2001 s. 28 (approved research)"),
    "permitted_purposes": ["RESEARCH", "STATISTICS", "POLICY_AND_PROGRAMS"],
    "retention_days": 5 * 365,
    "collection_method": "Derived quarterly from Hospital Admitted Patient Care by the de-identification pipeline.",
    "known_limitations": "Small regions with rare diagnoses keep a residual re-identification risk: use only in "
    "the enclave and check outputs. Inherits the under-recording of Indigenous status.",
    "quality_status": "VALIDATED",
    "tags": ["health", "hospitals", "research", "de-identified"],
    "fields": _columns(
        """
        record_id          string   NONE              Random key, not linkable to patient_id
        age_group          string   QUASI_IDENTIFIER  Five-year age band
        sex                string   QUASI_IDENTIFIER  Sex
        region             string   QUASI_IDENTIFIER  Statistical region of residence
        admission_month    string   NONE              Year and month of admission
        length_of_stay     integer  NONE              Days in hospital
        diagnosis_chapter  string   SENSITIVE         ICD-10-AM chapter of the principal diagnosis
        """
    ),
}

HOSPITAL_ACTIVITY: dict[str, Any] = {
    "id": "stats.hospital-activity",
    "title": "Hospital Activity by Region and Diagnosis Chapter",
    "description": "Quarterly counts of hospital separations and mean length of stay, by region and ICD-10 "
    "chapter. Official statistics, free to reuse.",
    "owner_agency_id": "stats",
    "classification": "PUBLIC",
    "personal_data": "NONE",
    "identifiability": "AGGREGATE",
    "legal_basis": public_task("Statistics Act 2011 s. 9 (official statistics)"),
    "permitted_purposes": ANY_BUT_LAW_ENFORCEMENT,
    "collection_method": "Aggregated from the de-identified research extract.",
    "known_limitations": "Cells under 5 are suppressed and totals are perturbed, so rows do not sum exactly.",
    "quality_status": "VALIDATED",
    "tags": ["health", "hospitals", "official-statistics", "open-data"],
    "fields": _columns(
        """
        region               string   NONE  Statistical region
        quarter              string   NONE  Reference quarter, e.g. 2025-Q3
        diagnosis_chapter    string   NONE  ICD-10-AM chapter
        separations          integer  NONE  Episodes ending in the quarter (suppressed under 5)
        mean_length_of_stay  number   NONE  Mean days in hospital
        """
    ),
}

LINKED: dict[str, Any] = {
    "id": "stats.health-housing-cohort",
    "title": "Linked Health and Housing Research Cohort",
    "description": "Hospital admissions linked to social housing applications, to study how housing insecurity "
    "relates to hospital use. Built by the Statistics Office as accredited integrating authority.",
    "owner_agency_id": "stats",
    "classification": "PROTECTED",
    "personal_data": "SPECIAL_CATEGORY",
    "identifiability": "PSEUDONYMISED",
    "legal_basis": public_task(INTEGRATION_ACT),
    "permitted_purposes": ["RESEARCH", "POLICY_AND_PROGRAMS"],
    "retention_days": 5 * 365,
    "collection_method": "Probabilistic linkage on name, date of birth and address history; the linkage keys are "
    "discarded and replaced by a project-specific pseudonym.",
    "known_limitations": "93% of housing applicants were linked. Missed links over-represent people with no fixed "
    "address, so the cohort under-counts the most housing-insecure.",
    "quality_status": "UNDER_REVIEW",
    "tags": ["health", "housing", "linked-data", "research"],
    "fields": _columns(
        """
        person_key                string   QUASI_IDENTIFIER  Project-specific pseudonym
        age_at_admission          integer  QUASI_IDENTIFIER  Age in years
        sex                       string   QUASI_IDENTIFIER  Sex
        region                    string   QUASI_IDENTIFIER  Statistical region of residence
        principal_diagnosis       string   SENSITIVE         ICD-10-AM principal diagnosis code
        priority_category         string   NONE              Housing priority at application
        days_admission_to_housed  integer  NONE              Days from admission to a tenancy offer, if any
        """
    ),
}

CLINICS: dict[str, Any] = {
    "id": "city.clinic-locations",
    "title": "Community Health Clinic Locations",
    "description": "Council-run and partner community health clinics with address, opening hours and services.",
    "owner_agency_id": "city",
    "classification": "PUBLIC",
    "legal_basis": public_task("Local Government Act 1993 s. 8 (service information)"),
    "permitted_purposes": ANY_BUT_LAW_ENFORCEMENT,
    "collection_method": "Maintained by the council's community services team.",
    "known_limitations": "Opening hours change over holidays and are not always updated in time.",
    "quality_status": "VALIDATED",
    "tags": ["health", "clinics", "open-data", "geospatial"],
    "fields": _columns(
        """
        clinic_name  string  NONE  Clinic name
        address      string  NONE  Street address of the clinic
        latitude     number  NONE  WGS84 latitude
        longitude    number  NONE  WGS84 longitude
        services     list    NONE  Services offered
        """
    ),
}

SERVICE_REQUESTS: dict[str, Any] = {
    "id": "city.service-requests",
    "title": "Council Service Requests",
    "description": "Requests lodged with the council (potholes, missed bins, graffiti, noise) and how they were "
    "resolved.",
    "owner_agency_id": "city",
    "classification": "OFFICIAL",
    "legal_basis": public_task(COUNCIL_FUNCTIONS),
    "permitted_purposes": ["SERVICE_DELIVERY", "POLICY_AND_PROGRAMS", "STATISTICS"],
    "retention_days": 2 * 365,
    "collection_method": "Lodged by residents by phone, web form and app.",
    "known_limitations": "Free-text descriptions are dropped at source because residents put names and phone "
    "numbers in them. App users are younger than the population, so some suburbs are under-reported.",
    "tags": ["council", "service-requests"],
    "fields": _columns(
        """
        request_id  string    NONE  Request number
        category    string    NONE  Request type
        suburb      string    NONE  Suburb of the reported problem
        lodged_at   datetime  NONE  When it was lodged
        closed_at   datetime  NONE  When it was resolved
        channel     string    NONE  phone, web or app
        """
    ),
}

SERVICE_REQUESTS_OPEN: dict[str, Any] = {
    **SERVICE_REQUESTS,
    "id": "city.service-requests-open",
    "title": "Council Service Requests (Open Data)",
    "description": "The council's service requests as open data, with times rounded to the day.",
    "classification": "PUBLIC",
    "permitted_purposes": ANY_BUT_LAW_ENFORCEMENT,
    "retention_days": None,
    "collection_method": "Published weekly from Council Service Requests.",
    "tags": ["council", "service-requests", "open-data"],
}

POPULATION: dict[str, Any] = {
    "id": "stats.population-estimates",
    "title": "Estimated Resident Population by Region",
    "description": "Annual population estimates by region, age group and sex.",
    "owner_agency_id": "stats",
    "classification": "PUBLIC",
    "identifiability": "AGGREGATE",
    "legal_basis": public_task("Statistics Act 2011 s. 9 (official statistics)"),
    "permitted_purposes": ANY_BUT_LAW_ENFORCEMENT,
    "collection_method": "Census base rolled forward with births, deaths and migration.",
    "known_limitations": "Estimates between censuses are revised; small regions carry wide error margins.",
    "quality_status": "VALIDATED",
    "tags": ["population", "official-statistics", "open-data"],
    "fields": _columns(
        """
        region      string   NONE  Statistical region
        year        integer  NONE  Reference year (30 June)
        age_group   string   NONE  Five-year age band
        sex         string   NONE  Sex
        population  integer  NONE  Estimated resident population
        """
    ),
}

DATASETS: list[dict[str, Any]] = [
    ADMISSIONS,
    HOUSING,
    DEIDENTIFIED,
    HOSPITAL_ACTIVITY,
    LINKED,
    CLINICS,
    SERVICE_REQUESTS,
    SERVICE_REQUESTS_OPEN,
    POPULATION,
]

STEWARDS = {
    "health.admissions": "hamid.health",
    "health.admissions-deid": "hamid.health",
    "social.housing-cases": "tom.social",
    "stats.hospital-activity": "priya.stats",
    "stats.health-housing-cohort": "priya.stats",
    "stats.population-estimates": "priya.stats",
    "city.clinic-locations": "carla.city",
    "city.service-requests": "carla.city",
    "city.service-requests-open": "carla.city",
}

PROCESSES: list[dict[str, Any]] = [
    {
        "id": "proc.health-deidentify",
        "name": "Quarterly de-identification of admitted patient care",
        "kind": "DEIDENTIFY",
        "run_id": "2025-Q3",
        "inputs": ["health.admissions"],
        "outputs": ["health.admissions-deid"],
    },
    {
        "id": "proc.stats-hospital-activity",
        "name": "Hospital activity tables with small-cell suppression",
        "kind": "AGGREGATE",
        "run_id": "2025-Q3",
        "inputs": ["health.admissions-deid"],
        "outputs": ["stats.hospital-activity"],
    },
    {
        "id": "proc.stats-link-health-housing",
        "name": "Health and housing linkage (project 2025-014)",
        "kind": "LINK",
        "run_id": "2025-014-r1",
        "inputs": ["health.admissions", "social.housing-cases"],
        "outputs": ["stats.health-housing-cohort"],
    },
    {
        "id": "proc.city-open-requests",
        "name": "Weekly open-data publication of service requests",
        "kind": "TRANSFORM",
        "inputs": ["city.service-requests"],
        "outputs": ["city.service-requests-open"],
    },
]

# (process, attesting steward, identifiability, note)
ATTESTATIONS: list[tuple[str, str, Identifiability, str]] = [
    (
        "proc.health-deidentify",
        "hamid.health",
        Identifiability.DEIDENTIFIED,
        "Direct identifiers removed, dates coarsened to month, age in 5-year bands, region not postcode. "
        "k-anonymity of 10 on age group, sex and region verified on the 2025-Q3 run.",
    ),
    (
        "proc.stats-hospital-activity",
        "priya.stats",
        Identifiability.AGGREGATE,
        "Counts only; cells under 5 suppressed and totals perturbed per the Office's confidentiality standard.",
    ),
]


def _agreements(now: datetime) -> list[dict[str, Any]]:
    """Dated from `now`, so the active one is active and the expired one expired whenever the demo loads."""
    return [
        {
            "id": "agr.health-uni-research",
            "provider_agency_id": "health",
            "recipient_agency_id": "uni",
            "dataset_ids": ["health.admissions-deid"],
            "approved_fields": ["age_group", "sex", "region", "admission_month", "length_of_stay", "diagnosis_chapter"],
            "purpose": "RESEARCH",
            "legal_basis": public_task(HEALTH_RESEARCH),
            "access_method": "SECURE_ENCLAVE",
            "max_classification": "OFFICIAL_SENSITIVE",
            "max_personal_data": "NONE",
            "conditions": ["Named researchers with current data-ethics training only", "No linkage to other data"],
            "obligations": ["Outputs checked by the Department before leaving the enclave", "Suppress cells under 10"],
            "valid_from": now - 60 * DAY,
            "valid_until": now + YEAR,
        },
        {
            "id": "agr.social-city-tenancy-support",
            "provider_agency_id": "social",
            "recipient_agency_id": "city",
            "dataset_ids": ["social.housing-cases"],
            "approved_fields": ["client_id", "full_name", "address", "household_size", "priority_category"],
            "purpose": "SERVICE_DELIVERY",
            "legal_basis": public_task(
                "Housing Act 1983 s. 41 (information sharing for tenancy support)", covers_identified=True
            ),
            "access_method": "API",
            "max_classification": "OFFICIAL_SENSITIVE",
            "max_personal_data": "PERSONAL",
            "allows_identified": True,
            "obligations": ["Delete records within 30 days of the tenancy support case closing"],
            "valid_from": now - 2 * YEAR,
            "valid_until": now - 30 * DAY,
            "status": "EXPIRED",
            "status_reason": "The two-year term ended and the council did not ask for a renewal.",
        },
        {
            "id": "agr.social-stats-housing-statistics",
            "provider_agency_id": "social",
            "recipient_agency_id": "stats",
            "dataset_ids": ["social.housing-cases"],
            "purpose": "STATISTICS",
            "legal_basis": public_task("Statistics Act 2011 s. 15 (collection of records)"),
            "access_method": "DOWNLOAD",
            "max_classification": "OFFICIAL_SENSITIVE",
            "max_personal_data": "PERSONAL",
            "allows_identified": True,
            "obligations": ["Destroy the identified copy within 90 days of receipt"],
            "valid_from": now - 200 * DAY,
            "valid_until": now + 165 * DAY,
            # Signed in force; social's approver revokes it through the workflow (catalog.demo_history).
        },
        {
            "id": "agr.health-stats-linkage",
            "provider_agency_id": "health",
            "recipient_agency_id": "stats",
            "dataset_ids": ["health.admissions"],
            "approved_fields": ["health_card_number", "date_of_birth", "sex", "postcode", "principal_diagnosis"],
            "purpose": "RESEARCH",
            "legal_basis": public_task(INTEGRATION_ACT, covers_identified=True),
            "access_method": "SECURE_ENCLAVE",
            "max_classification": "PROTECTED",
            "max_personal_data": "SPECIAL_CATEGORY",
            "allows_identified": True,
            "conditions": ["Linkage keys are discarded once the project pseudonym is assigned"],
            "obligations": ["Outputs checked by the Department before leaving the enclave"],
            "valid_from": now - 300 * DAY,
            "valid_until": now + 2 * YEAR,
        },
    ]


def _training(now: datetime, state: str) -> dict[str, datetime]:
    if state == "expired":
        return {"completed_at": now - 2 * YEAR, "expires_at": now - YEAR}
    return {"completed_at": now - 90 * DAY, "expires_at": now + YEAR - 90 * DAY}


def _register_person(services: Services, spec: PersonSpec, now: datetime) -> Person:
    id, name, agency_id, roles, training = spec
    payload = {"id": id, "name": name, "agency_id": agency_id, "roles": roles, "email": f"{id}@example.gov"}
    person = services.registration.register_person(SYSTEM, payload)
    if training is not None:
        person = services.registration.record_training(SYSTEM, id, _training(now, training))
    return person


def load_demo(services: Services) -> str:
    """Load the demo landscape through the services. Loads nothing if person `admin` already exists.

    Returns:
        A one-line summary of what was loaded, or "already loaded".
    """
    if services.reads.persons_by_ids(SYSTEM, [ADMIN_ID]):
        return "already loaded"
    now = services.ctx.clock()
    for agency in AGENCIES:
        services.registration.register_agency(SYSTEM, agency)
    people = {spec[0]: _register_person(services, spec, now) for spec in STAFF}
    for dataset in DATASETS:
        services.registration.register_dataset(SYSTEM, dataset)
        services.registration.assign_steward(SYSTEM, dataset["id"], STEWARDS[dataset["id"]])
    for process in PROCESSES:
        services.lineage.record(SYSTEM, process)
    # Attestation is the steward's own statement, so it is made as the steward rather than as the system.
    for process_id, steward, identifiability, note in ATTESTATIONS:
        services.lineage.attest(Principal.acting_as(people[steward]), process_id, identifiability, note)
    agreements = _agreements(now)
    for agreement in agreements:
        services.agreements.register(SYSTEM, agreement)
    stage = Stage(services, people)
    requests = make_agreements(stage)
    decisions = use_and_correct(stage)
    # The admin comes last: its presence is what marks a load that finished (see the check above).
    _register_person(services, ADMIN, now)
    return (
        f"{len(AGENCIES)} agencies, {len(STAFF) + 1} people, {len(DATASETS)} datasets, "
        f"{len(PROCESSES)} processes, {len(agreements)} agreements imported, {requests} share requests, "
        f"{decisions} access decisions, 1 correction"
    )
