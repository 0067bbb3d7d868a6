package store

import (
	"slices"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// OperatorFlag is a yes/no field operators set by hand in the database,
// such as disabled. An operator may type false, 0, "false", "no", "off" or
// leave it out for no; any other value, true or "yes" or 1 or a typo, is
// yes: an account is only enabled by a value that clearly says so. The
// same list is the query filter below, so that reading the flag and
// matching it never disagree (for anything an operator would type; an
// array, which a query matches element by element, reads as yes).
type OperatorFlag bool

// noValues are the values that read as no, besides a missing field.
var noValues = []any{nil, false, int32(0), int64(0), 0.0, "", "false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF", "0"}

// UnmarshalBSONValue implements bson.ValueUnmarshaler.
func (f *OperatorFlag) UnmarshalBSONValue(typ byte, data []byte) error {
	v := bson.RawValue{Type: bson.Type(typ), Value: data}
	switch {
	case v.Type == bson.TypeNull || v.Type == bson.TypeUndefined:
		*f = false
	case v.Type == bson.TypeBoolean:
		*f = OperatorFlag(v.Boolean())
	case v.IsNumber():
		n, _ := v.AsFloat64OK()
		*f = n != 0
	case v.Type == bson.TypeString:
		*f = OperatorFlag(!slices.Contains(noValues, any(v.StringValue())))
	default:
		*f = true
	}
	return nil
}

// enabled matches the accounts an operator has not disabled, by the same
// rule as OperatorFlag.
var enabled = bson.E{Key: "disabled", Value: bson.D{{Key: "$in", Value: bson.A(noValues)}}}
