package functest

import (
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/wxauth/scf-auth/pkg/roundtrip"
)

// maxIn is the longest $in over _id a command may send ("a short list").
const maxIn = 10

// CheckKeyedByID returns an error unless every filter of a command names
// its documents by _id (API.md §6): equality to a value, or $in over a
// short list, with any further conditions beside it. Commands that read
// by anything else (count, aggregate, distinct) are refused outright.
func CheckKeyedByID(c roundtrip.Command) error {
	body := bson.Raw(c.Body)
	var filters []bson.Raw
	lookup := func(key string) {
		if v, err := body.LookupErr(key); err == nil {
			if d, ok := v.DocumentOK(); ok {
				filters = append(filters, d)
			}
		}
	}
	each := func(array, key string) {
		v, err := body.LookupErr(array)
		if err != nil {
			return
		}
		arr, ok := v.ArrayOK()
		if !ok {
			return
		}
		vals, _ := arr.Values()
		for _, stmt := range vals {
			if d, ok := stmt.DocumentOK(); ok {
				if q, err := d.LookupErr(key); err == nil {
					if qd, ok := q.DocumentOK(); ok {
						filters = append(filters, qd)
					}
				}
			}
		}
	}
	switch c.Name {
	case "find":
		lookup("filter")
	case "findAndModify":
		lookup("query")
	case "update":
		each("updates", "q")
	case "delete":
		each("deletes", "q")
	case "count", "aggregate", "distinct", "mapReduce":
		return fmt.Errorf("%s reads by a filter, never by _id alone: %s", c.Name, body)
	}
	for _, f := range filters {
		if err := keyedByID(f); err != nil {
			return fmt.Errorf("%s %v: %s", c.Name, err, f)
		}
	}
	return nil
}

func keyedByID(filter bson.Raw) error {
	id, err := filter.LookupErr("_id")
	if err != nil {
		return fmt.Errorf("filter has no _id")
	}
	doc, isDoc := id.DocumentOK()
	if !isDoc {
		return nil // equality
	}
	elems, _ := doc.Elements()
	if len(elems) != 1 || elems[0].Key() != "$in" {
		return fmt.Errorf("_id is matched by %s, not by equality or $in", doc)
	}
	list, ok := elems[0].Value().ArrayOK()
	if !ok {
		return fmt.Errorf("$in over %s", elems[0].Value())
	}
	if vals, _ := list.Values(); len(vals) > maxIn {
		return fmt.Errorf("$in over %d values, more than %d", len(vals), maxIn)
	}
	return nil
}
