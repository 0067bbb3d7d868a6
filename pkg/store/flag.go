package store

import (
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// OperatorFlag is a yes/no field operators set by hand in the database.
// It reads whatever a person is likely to type in the mongo shell: true,
// 1, "true", "yes"; anything else (false, 0, null, missing) is no. It is
// written as a boolean.
type OperatorFlag bool

// UnmarshalBSONValue implements bson.ValueUnmarshaler.
func (f *OperatorFlag) UnmarshalBSONValue(typ byte, data []byte) error {
	v := bson.RawValue{Type: bson.Type(typ), Value: data}
	switch {
	case v.Type == bson.TypeBoolean:
		*f = OperatorFlag(v.Boolean())
	case v.IsNumber():
		n, _ := v.AsFloat64OK()
		*f = n != 0
	case v.Type == bson.TypeString:
		s := strings.ToLower(strings.TrimSpace(v.StringValue()))
		*f = s == "true" || s == "yes" || s == "1"
	default:
		*f = false
	}
	return nil
}

// notDisabled matches the users an operator has not disabled, whichever
// way the flag was typed.
var notDisabled = bson.D{{Key: "disabled", Value: bson.D{{Key: "$in", Value: bson.A{nil, false, 0, "", "false", "no", "0"}}}}}
