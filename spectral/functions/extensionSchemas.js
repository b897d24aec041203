// The JSON Schemas of eventdeck's extensions, exactly as pipeline/contract/extensions/x-*.json ships them
// (tests/test_lint_spectral.py holds the copy to the originals). Used by eventdeckExtensions.js.
export default {
  "x-backstage": {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://eventdeck.dev/schemas/extensions/x-backstage.json",
    "title": "x-backstage",
    "description": "Backstage catalog metadata of a domain's AsyncAPI document, on the Info Object. Used to write catalog-info.yaml (an API entity of type asyncapi) and to place the catalogue in Backstage TechDocs.",
    "type": "object",
    "additionalProperties": false,
    "required": [
      "owner"
    ],
    "properties": {
      "owner": {
        "description": "Entity reference of the owning group or user: [kind:][namespace/]name, e.g. group:default/payments-team. Kind defaults to group and namespace to default, as in Backstage.",
        "type": "string",
        "pattern": "^(?:(?:[Gg]roup|[Uu]ser):)?(?:[a-z0-9](?:[a-z0-9\\-]{0,61}[a-z0-9])?/)?[A-Za-z0-9](?:[A-Za-z0-9._\\-]{0,61}[A-Za-z0-9])?$",
        "examples": [
          "group:default/payments-team",
          "payments-team"
        ]
      },
      "system": {
        "description": "Entity reference (kind system implied) of the system the API belongs to, e.g. checkout.",
        "type": "string",
        "pattern": "^(?:[Ss]ystem:)?(?:[a-z0-9](?:[a-z0-9\\-]{0,61}[a-z0-9])?/)?[A-Za-z0-9](?:[A-Za-z0-9._\\-]{0,61}[A-Za-z0-9])?$",
        "examples": [
          "checkout"
        ]
      },
      "domain": {
        "description": "Entity reference (kind domain implied) of the business domain, e.g. payments. Written to the System entity when eventdeck generates one.",
        "type": "string",
        "pattern": "^(?:[Dd]omain:)?(?:[a-z0-9](?:[a-z0-9\\-]{0,61}[a-z0-9])?/)?[A-Za-z0-9](?:[A-Za-z0-9._\\-]{0,61}[A-Za-z0-9])?$",
        "examples": [
          "payments"
        ]
      },
      "lifecycle": {
        "description": "Backstage spec.lifecycle of the API entity.",
        "type": "string",
        "enum": [
          "experimental",
          "production",
          "deprecated"
        ],
        "default": "production"
      }
    }
  },
  "x-enrichment": {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://eventdeck.dev/schemas/extensions/x-enrichment.json",
    "title": "x-enrichment",
    "description": "How the public event is made from an internal domain event, on a Message Object. An internal event matching `from` is turned into the message's payload: the look-up results are placed at /_lookups/<name> of a copy of the internal event's `detail`, the JSON Patch (RFC 6902) is applied, /_lookups is removed, properties the payload schema does not declare are pruned if `prune` is true, and the result must validate against the payload schema.",
    "type": "object",
    "additionalProperties": false,
    "required": [
      "from",
      "patch"
    ],
    "properties": {
      "from": {
        "description": "EventBridge event pattern matched against the whole internal event (source, detail-type, detail, ...). Every internal event that matches is enriched into this message.",
        "$ref": "#/$defs/pattern"
      },
      "lookups": {
        "description": "Data fetched before the patch runs. Each result is placed at /_lookups/<name> of the working document, where patch operations can copy from it, and removed after the patch. They run in order; a failed look-up fails the event (it is not published and goes to the dead-letter queue).",
        "type": "array",
        "items": {
          "$ref": "#/$defs/lookup"
        }
      },
      "patch": {
        "description": "RFC 6902 JSON Patch applied to the internal event's detail. A failing operation (e.g. a `test`) fails the event.",
        "type": "array",
        "items": {
          "$ref": "#/$defs/operation"
        }
      },
      "prune": {
        "description": "After the patch, drop every object property that the payload schema does not declare, recursively. Declared means named in `properties` or matching a `patternProperties` pattern of the applicable (sub)schema, following $ref and combining allOf branches; for oneOf/anyOf the first branch that the pruned value validates against applies (none: the value is left as it is). Objects whose schema declares no properties at all (free-form objects) are left as they are; `additionalProperties` does not matter. If false, nothing is dropped, so an undeclared property reaches the payload validation.",
        "type": "boolean",
        "default": false
      },
      "subject": {
        "description": "JSON Pointer into the public payload whose value becomes the CloudEvents `subject` (the entity the event is about, e.g. `/paymentId`), so consumers can filter and partition by it without opening a sealed event. The value must be a string or a number; without `subject` the attribute is left out.",
        "type": "string",
        "pattern": "^(/([^~/]|~[01])*)+$"
      },
      "samples": {
        "description": "Sample internal events, one per example of the message: enriching `event` with the canned look-up results must yield exactly the payload of the named example. Used by the test suite and the local demo.",
        "type": "array",
        "items": {
          "$ref": "#/$defs/sample"
        }
      }
    },
    "$defs": {
      "pattern": {
        "title": "EventBridge event pattern",
        "description": "An object whose values are arrays of match values or nested patterns; `$or` holds alternative patterns.",
        "type": "object",
        "minProperties": 1,
        "properties": {
          "$or": {
            "description": "Alternatives: the pattern matches when any one of them matches.",
            "type": "array",
            "minItems": 2,
            "items": {
              "$ref": "#/$defs/pattern"
            }
          }
        },
        "additionalProperties": {
          "oneOf": [
            {
              "description": "Match values: the field matches when it equals, or satisfies, any one of them.",
              "type": "array",
              "minItems": 1,
              "items": {
                "$ref": "#/$defs/matchValue"
              }
            },
            {
              "$ref": "#/$defs/pattern"
            }
          ]
        }
      },
      "matchValue": {
        "title": "match value",
        "description": "An exact value (string, number, boolean or null) or a content filter.",
        "oneOf": [
          {
            "type": [
              "string",
              "number",
              "boolean",
              "null"
            ]
          },
          {
            "$ref": "#/$defs/contentFilter"
          }
        ]
      },
      "stringFilter": {
        "description": "A string, or a case-insensitive variant `{equals-ignore-case: string}`.",
        "oneOf": [
          {
            "type": "string"
          },
          {
            "type": "object",
            "additionalProperties": false,
            "required": [
              "equals-ignore-case"
            ],
            "properties": {
              "equals-ignore-case": {
                "description": "Case-insensitive value.",
                "type": "string"
              }
            }
          }
        ]
      },
      "contentFilter": {
        "title": "content filter",
        "description": "An EventBridge content filter: exactly one of the keys below.",
        "type": "object",
        "minProperties": 1,
        "maxProperties": 1,
        "additionalProperties": false,
        "properties": {
          "prefix": {
            "description": "Value starts with the string.",
            "$ref": "#/$defs/stringFilter"
          },
          "suffix": {
            "description": "Value ends with the string.",
            "$ref": "#/$defs/stringFilter"
          },
          "equals-ignore-case": {
            "description": "Value equals the string, ignoring case.",
            "type": "string"
          },
          "wildcard": {
            "description": "Value matches the pattern, `*` standing for any characters.",
            "type": "string"
          },
          "exists": {
            "description": "The field is present (true) or absent (false).",
            "type": "boolean"
          },
          "cidr": {
            "description": "Value is an IP address within the CIDR block.",
            "type": "string"
          },
          "numeric": {
            "description": "Numeric comparison: [op, number] or [op, number, op, number] with op one of <, <=, =, >=, >.",
            "type": "array",
            "minItems": 2,
            "maxItems": 4,
            "prefixItems": [
              {
                "enum": [
                  "<",
                  "<=",
                  "=",
                  ">=",
                  ">"
                ]
              },
              {
                "type": "number"
              },
              {
                "enum": [
                  "<",
                  "<="
                ]
              },
              {
                "type": "number"
              }
            ],
            "items": false
          },
          "anything-but": {
            "description": "Value is none of the given values, or does not start/end with the given string.",
            "oneOf": [
              {
                "type": [
                  "string",
                  "number"
                ]
              },
              {
                "type": "array",
                "minItems": 1,
                "items": {
                  "type": [
                    "string",
                    "number"
                  ]
                }
              },
              {
                "type": "object",
                "minProperties": 1,
                "maxProperties": 1,
                "additionalProperties": false,
                "properties": {
                  "prefix": {
                    "description": "Value does not start with the string.",
                    "type": "string"
                  },
                  "suffix": {
                    "description": "Value does not end with the string.",
                    "type": "string"
                  },
                  "wildcard": {
                    "description": "Value does not match the pattern.",
                    "type": "string"
                  },
                  "equals-ignore-case": {
                    "description": "Value is none of the strings, ignoring case.",
                    "oneOf": [
                      {
                        "type": "string"
                      },
                      {
                        "type": "array",
                        "minItems": 1,
                        "items": {
                          "type": "string"
                        }
                      }
                    ]
                  }
                }
              }
            ]
          }
        }
      },
      "lookup": {
        "title": "look-up",
        "description": "One look-up: an HTTP GET of `url`, or a call of `callable`; exactly one of the two.",
        "type": "object",
        "additionalProperties": false,
        "required": [
          "name"
        ],
        "oneOf": [
          {
            "required": [
              "url"
            ]
          },
          {
            "required": [
              "callable"
            ]
          }
        ],
        "properties": {
          "name": {
            "description": "The result is placed at /_lookups/<name>.",
            "type": "string",
            "pattern": "^[A-Za-z_][A-Za-z0-9_]*$"
          },
          "url": {
            "description": "URL template fetched with HTTP GET; each {<json-pointer>} is replaced by the value at that pointer in the internal event's detail, percent-encoded as one path segment (e.g. http://127.0.0.1:8090/merchants/{/merchantId}). The response must be JSON.",
            "type": "string",
            "pattern": "^https?://[^\\s]+$"
          },
          "callable": {
            "description": "A Python callable as `package.module:function` (attribute path after the colon), called with the internal event's detail; it returns the JSON-compatible result.",
            "type": "string",
            "pattern": "^[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)*:[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)*$"
          },
          "timeout": {
            "description": "Seconds to wait for the look-up before it fails.",
            "type": "number",
            "exclusiveMinimum": 0,
            "maximum": 30,
            "default": 2.0
          }
        }
      },
      "jsonPointer": {
        "description": "An RFC 6901 JSON Pointer (`` is the whole document).",
        "type": "string",
        "pattern": "^(/([^~/]|~[01])*)*$"
      },
      "operation": {
        "title": "JSON Patch operation",
        "description": "One RFC 6902 operation. add, replace and test need `value`; copy and move need `from`.",
        "type": "object",
        "additionalProperties": false,
        "required": [
          "op",
          "path"
        ],
        "properties": {
          "op": {
            "description": "The operation.",
            "type": "string",
            "enum": [
              "add",
              "remove",
              "replace",
              "copy",
              "move",
              "test"
            ]
          },
          "path": {
            "description": "Target location (JSON Pointer into the working document).",
            "$ref": "#/$defs/jsonPointer"
          },
          "from": {
            "description": "Source location for copy and move.",
            "$ref": "#/$defs/jsonPointer"
          },
          "value": {
            "description": "The value for add, replace and test (any JSON value)."
          }
        },
        "allOf": [
          {
            "if": {
              "properties": {
                "op": {
                  "enum": [
                    "add",
                    "replace",
                    "test"
                  ]
                }
              },
              "required": [
                "op"
              ]
            },
            "then": {
              "required": [
                "value"
              ],
              "properties": {
                "from": false
              }
            }
          },
          {
            "if": {
              "properties": {
                "op": {
                  "enum": [
                    "copy",
                    "move"
                  ]
                }
              },
              "required": [
                "op"
              ]
            },
            "then": {
              "required": [
                "from"
              ],
              "properties": {
                "value": false
              }
            }
          },
          {
            "if": {
              "properties": {
                "op": {
                  "const": "remove"
                }
              },
              "required": [
                "op"
              ]
            },
            "then": {
              "properties": {
                "from": false,
                "value": false
              }
            }
          }
        ]
      },
      "sample": {
        "title": "sample",
        "description": "An internal event and the canned look-up results that enrich into one example of the message.",
        "type": "object",
        "additionalProperties": false,
        "required": [
          "example",
          "event"
        ],
        "properties": {
          "example": {
            "description": "The `name` of an entry in the message's `examples`.",
            "type": "string",
            "minLength": 1
          },
          "event": {
            "description": "The internal event, as EventBridge delivers it; it must match `from`.",
            "$ref": "#/$defs/internalEvent"
          },
          "lookups": {
            "description": "Canned look-up results by look-up name, used instead of calling the look-ups.",
            "type": "object",
            "propertyNames": {
              "pattern": "^[A-Za-z_][A-Za-z0-9_]*$"
            }
          }
        }
      },
      "internalEvent": {
        "title": "internal EventBridge event",
        "description": "An internal event as EventBridge delivers it to a rule target.",
        "type": "object",
        "additionalProperties": false,
        "required": [
          "source",
          "detail-type",
          "detail"
        ],
        "properties": {
          "version": {
            "description": "Event structure version, always \"0\".",
            "const": "0"
          },
          "id": {
            "description": "Event id.",
            "type": "string",
            "format": "uuid"
          },
          "source": {
            "description": "The internal source, e.g. com.retailer.payments.internal.",
            "type": "string",
            "minLength": 1,
            "maxLength": 256
          },
          "detail-type": {
            "description": "The internal event type.",
            "type": "string",
            "minLength": 1,
            "maxLength": 128
          },
          "account": {
            "description": "12-digit AWS account id, as a string.",
            "type": "string",
            "pattern": "^\\d{12}$"
          },
          "time": {
            "description": "RFC 3339 timestamp (UTC).",
            "type": "string",
            "format": "date-time"
          },
          "region": {
            "description": "AWS region.",
            "type": "string",
            "pattern": "^[a-z]{2}(-[a-z]+)+-\\d$"
          },
          "resources": {
            "description": "ARNs of the resources involved.",
            "type": "array",
            "items": {
              "type": "string"
            }
          },
          "replay-name": {
            "description": "Set by EventBridge on replayed events.",
            "type": "string"
          },
          "detail": {
            "description": "The internal event's detail: the input of the patch.",
            "type": "object"
          }
        }
      }
    }
  },
  "x-eventbridge": {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://eventdeck.dev/schemas/extensions/x-eventbridge.json",
    "title": "x-eventbridge",
    "description": "Where a domain's public events are published on Amazon EventBridge. Allowed at the document root (the default for the whole document) and on a Server Object (replaces the root value, as a whole, for that server). The message name becomes the EventBridge detail-type.",
    "type": "object",
    "additionalProperties": false,
    "required": [
      "bus",
      "source"
    ],
    "properties": {
      "bus": {
        "description": "The event bus the events are put on: a bus name (1-256 of A-Z a-z 0-9 . _ - /) or the bus ARN (arn:<partition>:events:<region>:<account>:event-bus/<name>), which is required for a bus in another account. When an ARN is given, its region and account must agree with `region` and `account` if those are set.",
        "type": "string",
        "if": {
          "pattern": "^arn:"
        },
        "then": {
          "description": "bus ARN",
          "pattern": "^arn:aws[a-z\\-]*:events:[a-z]{2}(-[a-z]+)+-\\d:\\d{12}:event-bus/[A-Za-z0-9._\\-/]{1,256}$"
        },
        "else": {
          "description": "bus name",
          "pattern": "^[A-Za-z0-9._\\-/]{1,256}$"
        },
        "examples": [
          "payments-public",
          "arn:aws:events:eu-west-1:111122223333:event-bus/payments-public"
        ]
      },
      "source": {
        "description": "The EventBridge `source` of every event of the document, in reverse-DNS form (e.g. com.retailer.payments). Must not start with `aws.`, which EventBridge reserves for AWS services. Also the default JWT issuer (see x-sealing).",
        "type": "string",
        "minLength": 3,
        "maxLength": 256,
        "allOf": [
          {
            "pattern": "^[A-Za-z0-9][A-Za-z0-9\\-]*(\\.[A-Za-z0-9][A-Za-z0-9\\-]*)+$"
          },
          {
            "not": {
              "pattern": "^[Aa][Ww][Ss]\\."
            }
          }
        ],
        "examples": [
          "com.retailer.payments"
        ]
      },
      "region": {
        "description": "The AWS region of the bus, e.g. eu-west-1. Defaults to the region of the publishing environment when omitted.",
        "type": "string",
        "pattern": "^[a-z]{2}(-[a-z]+)+-\\d$",
        "examples": [
          "eu-west-1"
        ]
      },
      "account": {
        "description": "The 12-digit AWS account id that owns the bus, as a string (quote it in YAML so leading zeros survive).",
        "type": "string",
        "pattern": "^\\d{12}$",
        "examples": [
          "111122223333"
        ]
      }
    }
  },
  "x-lifecycle": {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://eventdeck.dev/schemas/extensions/x-lifecycle.json",
    "title": "x-lifecycle",
    "description": "Lifecycle of one event type, on a Message Object. A breaking change gets a new event type (Payment.AuthorisedV2.Ecom); the old one is marked deprecated, points at its successor and names the day it stops being produced.",
    "type": "object",
    "additionalProperties": false,
    "required": [
      "status"
    ],
    "properties": {
      "status": {
        "description": "active: produced and supported. deprecated: still produced, consumers should move to `supersededBy` before `sunset`. retired: no longer produced; kept in the catalogue for reference.",
        "type": "string",
        "enum": [
          "active",
          "deprecated",
          "retired"
        ],
        "default": "active"
      },
      "supersededBy": {
        "description": "Name ({Entity}.{Event}.{Metadata}) of the event type that replaces this one.",
        "type": "string",
        "pattern": "^[A-Z][A-Za-z0-9]*\\.[A-Z][A-Za-z0-9]*\\.[A-Z][A-Za-z0-9]*$",
        "examples": [
          "Payment.AuthorisedV2.Ecom"
        ]
      },
      "sunset": {
        "description": "Last day (RFC 3339 full-date, UTC) the event is produced. Quote it in YAML so it stays a string.",
        "type": "string",
        "format": "date",
        "pattern": "^\\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\\d|3[01])$",
        "examples": [
          "2026-12-31"
        ]
      }
    },
    "allOf": [
      {
        "if": {
          "properties": {
            "status": {
              "const": "active"
            }
          },
          "required": [
            "status"
          ]
        },
        "then": {
          "properties": {
            "supersededBy": false,
            "sunset": false
          }
        },
        "description": "An active event has no successor and no sunset date."
      },
      {
        "if": {
          "properties": {
            "status": {
              "const": "deprecated"
            }
          },
          "required": [
            "status"
          ]
        },
        "then": {
          "anyOf": [
            {
              "required": [
                "supersededBy"
              ]
            },
            {
              "required": [
                "sunset"
              ]
            }
          ]
        },
        "description": "A deprecation must tell consumers what to do: name the successor, the sunset date, or both."
      }
    ]
  },
  "x-sealing": {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://eventdeck.dev/schemas/extensions/x-sealing.json",
    "title": "x-sealing",
    "description": "How events are sealed before they are published: a nested JWT, a JWS (signed claims, the event in them) inside a JWE (encrypted, cty JWT). At the document root it is the default for the messages defined in that document; on a Message Object it replaces the default as a whole (values are not merged). The string `none` publishes the event unsealed, as plain JSON.",
    "type": [
      "string",
      "object"
    ],
    "if": {
      "type": "string"
    },
    "then": {
      "description": "`none`: the event is public and is published as plain JSON, neither signed nor encrypted.",
      "const": "none"
    },
    "else": {
      "$ref": "#/$defs/seal"
    },
    "$defs": {
      "seal": {
        "title": "sealed",
        "description": "Sign (always), then optionally encrypt.",
        "type": "object",
        "additionalProperties": false,
        "required": [
          "sign"
        ],
        "properties": {
          "sign": {
            "description": "The signature (required): algorithm and key id.",
            "$ref": "#/$defs/sign"
          },
          "encrypt": {
            "description": "The encryption (optional): key management algorithm, content encryption and key id. Without it the event is signed only (readable by anyone who receives it).",
            "$ref": "#/$defs/encrypt"
          },
          "compress": {
            "description": "Compress the signed token with DEFLATE before encryption (JWE header zip: DEF). Only meaningful together with `encrypt`; ignored otherwise. Switch it off for events that carry attacker-influenced data next to secrets: compression before encryption leaks information about the plaintext through the ciphertext length (RFC 8725 section 3.6).",
            "type": "boolean",
            "default": true
          },
          "issuer": {
            "description": "The JWT `iss` claim. Defaults to the document's x-eventbridge source. Consumers check it against the issuer they expect for the event type.",
            "type": "string",
            "minLength": 1,
            "maxLength": 256
          }
        }
      },
      "sign": {
        "title": "sign",
        "description": "The JWS that carries the event as its claims.",
        "type": "object",
        "additionalProperties": false,
        "required": [
          "alg",
          "kid"
        ],
        "properties": {
          "alg": {
            "description": "JWS algorithm. HS256 uses a shared secret: every party that can verify can also forge, so use it only inside one trust domain. ES256, EdDSA and RS256 sign with the producer's private key and are verified with its public key (JWKS).",
            "type": "string",
            "enum": [
              "HS256",
              "ES256",
              "EdDSA",
              "RS256"
            ]
          },
          "kid": {
            "description": "Key id of the signing key, written to the JWS header so consumers pick the right verification key and keys can be rotated.",
            "type": "string",
            "minLength": 1,
            "maxLength": 256
          }
        }
      },
      "encrypt": {
        "title": "encrypt",
        "description": "The JWE that wraps the signed token (cty: JWT).",
        "type": "object",
        "additionalProperties": false,
        "required": [
          "alg",
          "kid"
        ],
        "properties": {
          "alg": {
            "description": "JWE key management algorithm. dir: a shared symmetric key used directly as the content key. RSA-OAEP-256 and ECDH-ES+A256KW: the content key is wrapped for the consumer's public key.",
            "type": "string",
            "enum": [
              "dir",
              "RSA-OAEP-256",
              "ECDH-ES+A256KW"
            ]
          },
          "enc": {
            "description": "JWE content encryption algorithm.",
            "type": "string",
            "enum": [
              "A256GCM"
            ],
            "default": "A256GCM"
          },
          "kid": {
            "description": "Key id of the key the content key is encrypted to (the consumer's public key, or the shared key for dir), written to the JWE header.",
            "type": "string",
            "minLength": 1,
            "maxLength": 256
          }
        }
      }
    }
  }
};
