{#- The named types (enums, structs, newtypes): included by generated.rs and rest.rs. -#}
{% for e in enums %}
{% for l in e.doc %}{{ l }}
{% endfor -%}
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum {{ e.name }} {
{%- for (r, w) in e.variants %}
    #[serde(rename = {{ w }})]
    {{ r }},
{%- endfor %}
}

impl {{ e.name }} {
    /// The value on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
{%- for (r, w) in e.variants %}
            Self::{{ r }} => {{ w }},
{%- endfor %}
        }
    }
}
{% endfor %}
{%- for s in structs %}
{% for l in s.doc %}{{ l }}
{% endfor -%}
#[derive(Debug, Clone, PartialEq)]
pub struct {{ s.name }} {
{%- for f in s.fields %}
{% for l in f.doc %}    {{ l }}
{% endfor %}    pub {{ f.rust }}: {{ f.ty }},
{%- endfor %}
}

/// Only a JSON object decodes (never an array); unknown keys are ignored; a repeated key keeps
/// its last value, as JSON Schema validators do.
impl<'de> serde::Deserialize<'de> for {{ s.name }} {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct FieldsVisitor;
        impl<'de> serde::de::Visitor<'de> for FieldsVisitor {
            type Value = {{ s.name }};
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a {{ s.name }} object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
{%- for f in s.fields %}
                let mut {{ f.slot }}: Option<{{ f.value_ty }}> = None;
{%- endfor %}
                while let Some(key) = map.next_key::<crate::de::Key<'de>>()? {
                    match key.as_str() {
{%- for f in s.fields %}
                        {{ f.wire }} => {{ f.slot }} = Some({{ f.read }}),
{%- endfor %}
                        _ => {
                            map.next_value::<serde::de::IgnoredAny>()?;
                        }
                    }
                }
                Ok({{ s.name }} {
{%- for f in s.fields %}
                    {{ f.rust }}: {{ f.finish }},
{%- endfor %}
                })
            }
        }
        deserializer.deserialize_map(FieldsVisitor)
    }
}

impl crate::de::Validate for {{ s.name }} {
    fn validate(&self) -> Result<(), crate::de::Violation> {
{%- for v in s.validate %}
        {{ v }}
{%- endfor %}
        Ok(())
    }
}

impl crate::de::SerializeFields for {{ s.name }} {
    fn serialize_fields<M: serde::ser::SerializeMap>(&self, {% if s.serialize.is_empty() %}_{% endif %}map: &mut M) -> Result<(), M::Error> {
{%- for v in s.serialize %}
        {{ v }}
{%- endfor %}
        Ok(())
    }
}

impl serde::Serialize for {{ s.name }} {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        crate::de::SerializeFields::serialize_fields(self, &mut map)?;
        map.end()
    }
}
{% endfor %}
{%- for n in newtypes %}
{% for l in n.doc %}{{ l }}
{% endfor -%}
#[derive(Debug, Clone, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(transparent)]
pub struct {{ n.name }}(pub {{ n.ty }});

impl crate::de::Validate for {{ n.name }} {
    fn validate(&self) -> Result<(), crate::de::Violation> {
{%- for v in n.validate %}
        {{ v }}
{%- endfor %}
        Ok(())
    }
}
{% endfor %}