# The access and deny rules of policies/rules/20-access.yaml and 30-denials.yaml, translated by hand.
# Each rule is an object of its named conditions, as in the YAML, defined only for the actions the rule covers;
# decide.rego combines them. `input` is RequestAttributes.snapshot(): {"sub": ..., "obj": ..., "env": ...}.
# A condition with `or` in the YAML is a helper rule below (Rego has no `or` operator).
package catalog.access

allow_rules["access-owner-agency"] := {
	"same_agency": input.sub.agency == input.obj.owner,
	"owner_or_steward": owner_or_steward,
} if input.env.action == "access"

allow_rules["access-open-data"] := {
	"public": input.obj.classification == "PUBLIC",
	"no_personal_data": input.obj.personal_data == "NONE",
} if input.env.action == "access"

allow_rules["access-five-safes"] := {
	"project.purpose_permitted": input.env.purpose in input.obj.permitted_purposes,
	"project.lawful_basis": input.obj.has_legal_basis,
	"project.active_agreement": input.env.agreement.active,
	"project.agreement_purpose": input.env.agreement.covers_purpose,
	"people.recipient_member": input.sub.agency == input.env.agreement.recipient,
	"people.receiving_role": "ANALYST" in input.sub.roles,
	"people.training_current": input.sub.training_current,
	"settings.agreed_method": input.env.access_method == input.env.agreement.access_method,
	"settings.method_for_classification": method_for_classification,
	"data.classification_within": input.obj.classification_rank <= input.env.agreement.max_classification_rank,
	"data.personal_data_within": input.obj.personal_data_rank <= input.env.agreement.max_personal_data_rank,
	"data.identified_only_if_lawful": identified_only_if_lawful,
	"data.fields_minimised": fields_minimised,
	"outputs.checked_release": checked_release,
} if input.env.action == "access"

deny_rules["deny-withdrawn-dataset"] := {"project.dataset_withdrawn": input.obj.status == "WITHDRAWN"} if {
	input.env.action in {"access", "request_share"}
}

deny_rules["deny-revoked-agreement"] := {
	"project.agreement_revoked": input.env.agreement.status == "REVOKED",
	"not_owner_agency": input.sub.agency != input.obj.owner,
} if input.env.action == "access"

deny_rules["deny-law-enforcement"] := {
	"project.law_enforcement_purpose": input.env.purpose == "LAW_ENFORCEMENT",
	"project.no_law_enforcement_agreement": law_enforcement_agreement == false,
} if input.env.action in {"access", "request_share"}

default owner_or_steward := false

owner_or_steward if "DATA_OWNER" in input.sub.roles

owner_or_steward if "STEWARD" in input.sub.roles

default method_for_classification := false

method_for_classification if {
	download_only_if_open
	protected_only_in_enclave
}

default download_only_if_open := false

download_only_if_open if input.env.access_method != "DOWNLOAD"

download_only_if_open if input.obj.classification in {"PUBLIC", "OFFICIAL"}

default protected_only_in_enclave := false

protected_only_in_enclave if input.obj.classification != "PROTECTED"

protected_only_in_enclave if input.env.access_method == "SECURE_ENCLAVE"

default identified_only_if_lawful := false

identified_only_if_lawful if not input.obj.identified

identified_only_if_lawful if {
	input.env.agreement.allows_identified
	input.obj.legal_basis_covers_identified
}

default fields_minimised := false

fields_minimised if count(input.env.fields_outside_approved) == 0

fields_minimised if count(input.env.agreement.approved_fields) == 0

default checked_release := false

checked_release if {
	input.obj.classification in {"PUBLIC", "OFFICIAL"}
	input.obj.personal_data == "NONE"
}

checked_release if input.env.access_method in {"SECURE_ENCLAVE", "AGGREGATE_QUERY"}

default law_enforcement_agreement := false

law_enforcement_agreement if {
	input.env.agreement.active
	input.env.agreement.purpose == "LAW_ENFORCEMENT"
}
