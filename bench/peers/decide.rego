# How the catalog combines rules, for any module that defines `allow_rules` and `deny_rules` (rule id -> its named
# conditions): permit when some allow rule holds and no deny rule does. Queried as `allow` (the outcome alone),
# `decision` (with the determining rules and every candidate rule's failed conditions), or, for a batch in
# `input.requests`, `outcomes` and `decisions`.
package catalog.access

permits contains id if {
	some id, conditions in allow_rules
	every held in conditions {
		held
	}
}

denies contains id if {
	some id, conditions in deny_rules
	every held in conditions {
		held
	}
}

default allow := false

allow if {
	count(permits) > 0
	count(denies) == 0
}

default determining := []

determining := sort(denies) if count(denies) > 0

determining := sort(permits) if allow

failed[id] := names if {
	some id, conditions in object.union(allow_rules, deny_rules)
	names := sort([name | some name, held in conditions; held == false])
}

decision := {"allow": allow, "rules": determining, "failed": failed}

outcomes := [allowed | some request in input.requests; allowed := allow with input as request]

decisions := [outcome | some request in input.requests; outcome := decision with input as request]
