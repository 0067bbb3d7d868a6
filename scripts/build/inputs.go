package main

import (
	"fmt"
	"strings"
)

// inputKind is the YAML type an input of the scf component takes.
type inputKind int

const (
	kindString inputKind = iota
	kindNumber
	kindBoolean
	kindObject
	kindList
	// kindSource is src: a path, or an object naming it.
	kindSource
)

// componentInputs are the inputs of Tencent's scf component (the CLI's
// `component: scf`), as it documents them: serverless-components/tencent-scf
// docs/configure.md ("全部配置" and "配置描述"), the same list as the
// component's page at https://cloud.tencent.com/document/product/1154/43228,
// and the fields tencent-component-toolkit reads (src/modules/scf/interface.ts).
// A setting of serverless.yml that is not one of them would be dropped by
// the component without a word, so the build refuses it.
var componentInputs = map[string]inputKind{
	"name": kindString, "namespace": kindString, "role": kindString, "src": kindSource, "type": kindString,
	"handler": kindString, "entryFile": kindString, "runtime": kindString, "region": kindString,
	"description": kindString, "memorySize": kindNumber, "timeout": kindNumber, "initTimeout": kindNumber,
	"environment": kindObject, "publicAccess": kindBoolean, "eip": kindBoolean, "installDependency": kindBoolean,
	"vpcConfig": kindObject, "cfs": kindList, "deadLetter": kindObject, "layers": kindList, "cls": kindObject,
	"asyncRunEnable": kindBoolean, "traceEnable": kindBoolean, "msgTTL": kindNumber, "retryNum": kindNumber,
	"tags": kindObject, "ignoreTriggers": kindBoolean, "image": kindObject, "events": kindList,
	"protocolType": kindString, "protocolParams": kindObject, "provisionedNum": kindNumber, "qualifier": kindString,
}

// functionInputs are the inputs each function sets for itself; the
// provider cannot share them.
var functionInputs = map[string]bool{"src": true, "handler": true, "description": true, "events": true, "name": true}

// checkInput refuses a shared setting that is not an input of the
// component, or whose value the component would misread. A boolean must
// be a YAML boolean: the CLI resolves ${env:NAME} to a string, and the
// component takes only true itself for true (eip === true), so "true"
// from the environment would silently leave eip off.
func checkInput(name string, value any) error {
	kind, ok := componentInputs[name]
	switch {
	case !ok:
		return fmt.Errorf("provider.%s is not an input of the scf component", name)
	case functionInputs[name]:
		return fmt.Errorf("provider.%s is set per function, not shared", name)
	}
	fromEnv := false
	if s, isString := value.(string); isString {
		fromEnv = strings.HasPrefix(s, "${env:")
	}
	var fits bool
	switch value.(type) {
	case bool:
		fits = kind == kindBoolean
	case int, float64:
		fits = kind == kindNumber
	case string:
		fits = kind == kindString || kind == kindSource || (kind == kindNumber && fromEnv)
	case map[string]any:
		fits = kind == kindObject || kind == kindSource
	case []any:
		fits = kind == kindList
	}
	if !fits {
		if kind == kindBoolean {
			return fmt.Errorf("provider.%s must be true or false as a YAML boolean, not %v: the CLI would pass ${env:…} on as a string, which the component does not take for true", name, value)
		}
		return fmt.Errorf("provider.%s has a value of the wrong type: %v", name, value)
	}
	return nil
}
