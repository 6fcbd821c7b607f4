//! A small builder for ONNX graphs: named weights (initializers), nodes with unique output names, and attributes.

use super::onnx_proto::{
    AttributeProto, GraphProto, NodeProto, TensorProto, TensorShapeProto, TypeProto, ValueInfoProto,
    attribute_proto::AttributeType, tensor_proto::DataType, tensor_shape_proto, type_proto,
};
use crate::model::host::HostTensor;

/// One dimension of a graph input or output: fixed, or named and dynamic (`batch`).
#[derive(Clone, Debug)]
pub(crate) enum Dim {
    /// A fixed size.
    Fixed(usize),
    /// A symbolic size, free at run time.
    Named(&'static str),
}

/// Nodes and initializers added in order; every output name is unique.
#[derive(Default)]
pub(crate) struct GraphBuilder {
    nodes: Vec<NodeProto>,
    initializers: Vec<TensorProto>,
    used: std::collections::BTreeSet<String>,
}

impl GraphBuilder {
    /// `hint`, or `hint_N` if that name is taken.
    fn fresh(&mut self, hint: &str) -> String {
        let mut name = hint.to_string();
        let mut n = 1;
        while self.used.contains(&name) {
            name = format!("{hint}_{n}");
            n += 1;
        }
        self.used.insert(name.clone());
        name
    }

    /// An f32 weight named after its gohsp tensor (`blocks.0.attn.qkv.weight`); returns its name in the graph.
    pub(crate) fn weight(&mut self, name: &str, tensor: &HostTensor) -> String {
        let name = self.fresh(name);
        let raw: Vec<u8> = tensor.data.iter().flat_map(|v| v.to_le_bytes()).collect();
        self.initializers.push(TensorProto {
            name: Some(name.clone()),
            dims: tensor.shape.iter().map(|&d| d as i64).collect(),
            data_type: Some(DataType::Float as i32),
            raw_data: Some(raw),
            ..Default::default()
        });
        name
    }

    /// A 1-D int64 constant (shapes, axes, split sizes).
    pub(crate) fn int64s(&mut self, name: &str, values: &[i64]) -> String {
        let name = self.fresh(name);
        self.initializers.push(TensorProto {
            name: Some(name.clone()),
            dims: vec![values.len() as i64],
            data_type: Some(DataType::Int64 as i32),
            int64_data: values.to_vec(),
            ..Default::default()
        });
        name
    }

    /// A 0-D int64 constant (a Gather index).
    pub(crate) fn int64_scalar(&mut self, name: &str, value: i64) -> String {
        let name = self.fresh(name);
        self.initializers.push(TensorProto {
            name: Some(name.clone()),
            data_type: Some(DataType::Int64 as i32),
            int64_data: vec![value],
            ..Default::default()
        });
        name
    }

    /// A scalar f32 constant.
    pub(crate) fn scalar(&mut self, name: &str, value: f32) -> String {
        self.weight(name, &HostTensor::new(vec![], vec![value]))
    }

    /// A node with one output; returns the output's name (`hint`, made unique).
    pub(crate) fn op(&mut self, op: &str, inputs: &[&str], attributes: Vec<AttributeProto>, hint: &str) -> String {
        self.op_n(op, inputs, attributes, &[hint]).remove(0)
    }

    /// A node with several outputs, one per hint.
    pub(crate) fn op_n(
        &mut self,
        op: &str,
        inputs: &[&str],
        attributes: Vec<AttributeProto>,
        hints: &[&str],
    ) -> Vec<String> {
        let outputs: Vec<String> = hints.iter().map(|h| self.fresh(h)).collect();
        let name = self.fresh(&format!("{op}:{}", outputs[0]));
        self.nodes.push(NodeProto {
            name: Some(name),
            op_type: Some(op.to_string()),
            input: inputs.iter().map(|s| s.to_string()).collect(),
            output: outputs.clone(),
            attribute: attributes,
            ..Default::default()
        });
        outputs
    }

    /// Reserves a graph input's name, so no node output takes it.
    pub(crate) fn input_name(&mut self, name: &str) -> String {
        self.fresh(name)
    }

    /// The finished graph with one f32 input and one f32 output.
    pub(crate) fn finish(self, name: &str, input: ValueInfoProto, output: ValueInfoProto) -> GraphProto {
        GraphProto {
            name: Some(name.to_string()),
            node: self.nodes,
            initializer: self.initializers,
            input: vec![input],
            output: vec![output],
            ..Default::default()
        }
    }
}

/// A float tensor's name, element type and shape, as graph inputs and outputs declare them.
pub(crate) fn float_value(name: &str, dims: &[Dim]) -> ValueInfoProto {
    let dim = dims
        .iter()
        .map(|d| tensor_shape_proto::Dimension {
            value: Some(match d {
                Dim::Fixed(n) => tensor_shape_proto::dimension::Value::DimValue(*n as i64),
                Dim::Named(s) => tensor_shape_proto::dimension::Value::DimParam(s.to_string()),
            }),
            ..Default::default()
        })
        .collect();
    let tensor = type_proto::Tensor { elem_type: Some(DataType::Float as i32), shape: Some(TensorShapeProto { dim }) };
    ValueInfoProto {
        name: Some(name.to_string()),
        r#type: Some(TypeProto { value: Some(type_proto::Value::TensorType(tensor)), ..Default::default() }),
        ..Default::default()
    }
}

/// An attribute named `name` of type `kind`, its value set by `set`.
fn attribute(name: &str, kind: AttributeType, set: impl FnOnce(&mut AttributeProto)) -> AttributeProto {
    let mut attribute =
        AttributeProto { name: Some(name.to_string()), r#type: Some(kind as i32), ..Default::default() };
    set(&mut attribute);
    attribute
}

/// An integer attribute.
pub(crate) fn int_attr(name: &str, value: i64) -> AttributeProto {
    attribute(name, AttributeType::Int, |a| a.i = Some(value))
}

/// A list-of-integers attribute.
pub(crate) fn ints_attr(name: &str, values: &[i64]) -> AttributeProto {
    attribute(name, AttributeType::Ints, |a| a.ints = values.to_vec())
}

/// A float attribute.
pub(crate) fn float_attr(name: &str, value: f32) -> AttributeProto {
    attribute(name, AttributeType::Float, |a| a.f = Some(value))
}

/// A string attribute.
pub(crate) fn string_attr(name: &str, value: &str) -> AttributeProto {
    attribute(name, AttributeType::String, |a| a.s = Some(value.as_bytes().to_vec()))
}
