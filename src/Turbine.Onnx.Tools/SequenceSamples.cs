namespace Turbine.Onnx.Tools;

/// <summary>
/// The configs (Triton's <c>config.pbtxt</c> form) of the stateful examples whose models <see cref="SampleModels"/>
/// builds: Triton's <c>simple_sequence</c> and <c>simple_dyna_sequence</c> with their published settings, and the
/// string-id accumulator that Triton's dyna client also calls. The demo repository and the tests serve them as they
/// are, so that Triton's sequence example clients run against Turbine unchanged.
/// </summary>
public static class SequenceSamples
{
    /// <summary>Triton's own simple_sequence config.pbtxt, as its example repository writes it.</summary>
    public const string SimpleSequenceConfig = """
        name: "simple_sequence"
        platform: "onnxruntime_onnx"
        max_batch_size: 8
        sequence_batching {
          control_input [
            { name: "START" control [ { kind: CONTROL_SEQUENCE_START int32_false_true: [ 0, 1 ] } ] },
            { name: "READY" control [ { kind: CONTROL_SEQUENCE_READY int32_false_true: [ 0, 1 ] } ] }
          ]
        }
        input [ { name: "INPUT" data_type: TYPE_INT32 dims: [ 1 ] } ]
        output [ { name: "OUTPUT" data_type: TYPE_INT32 dims: [ 1 ] } ]
        instance_group [ { kind: KIND_CPU } ]
        """;

    /// <summary>Triton's simple_dyna_sequence config.pbtxt (oldest strategy, two instances, an UINT64 CORRID).</summary>
    public const string DynaSequenceConfig = """
        name: "simple_dyna_sequence"
        platform: "onnxruntime_onnx"
        max_batch_size: 8
        sequence_batching {
          max_sequence_idle_microseconds: 10000000
          oldest { max_candidate_sequences: 1024 max_queue_delay_microseconds: 10000 }
          control_input [
            { name: "START" control [ { kind: CONTROL_SEQUENCE_START int32_false_true: [ 0, 1 ] } ] },
            { name: "END" control [ { kind: CONTROL_SEQUENCE_END int32_false_true: [ 0, 1 ] } ] },
            { name: "READY" control [ { kind: CONTROL_SEQUENCE_READY int32_false_true: [ 0, 1 ] } ] },
            { name: "CORRID" control [ { kind: CONTROL_SEQUENCE_CORRID data_type: TYPE_UINT64 } ] }
          ]
        }
        input [ { name: "INPUT" data_type: TYPE_INT32 dims: [ 1 ] } ]
        output [ { name: "OUTPUT" data_type: TYPE_INT32 dims: [ 1 ] } ]
        instance_group [ { count: 2 kind: KIND_CPU } ]
        """;

    /// <summary>The string-id accumulator: simple_dyna_sequence's config with a TYPE_STRING CORRID, plus the implicit state that holds the sum.</summary>
    public const string StringDynaSequenceConfig = """
        name: "simple_string_dyna_sequence"
        max_batch_size: 8
        sequence_batching {
          max_sequence_idle_microseconds: 10000000
          oldest { max_candidate_sequences: 1024 max_queue_delay_microseconds: 10000 }
          control_input [
            { name: "START" control [ { kind: CONTROL_SEQUENCE_START int32_false_true: [ 0, 1 ] } ] },
            { name: "END" control [ { kind: CONTROL_SEQUENCE_END int32_false_true: [ 0, 1 ] } ] },
            { name: "READY" control [ { kind: CONTROL_SEQUENCE_READY int32_false_true: [ 0, 1 ] } ] },
            { name: "CORRID" control [ { kind: CONTROL_SEQUENCE_CORRID data_type: TYPE_STRING } ] }
          ]
          state [ { input_name: "ACC_IN" output_name: "ACC_OUT" data_type: TYPE_INT32 dims: [ 1 ] initial_state: { data_type: TYPE_INT32 dims: [ 1 ] zero_data: true name: "zero" } } ]
        }
        input [ { name: "INPUT" data_type: TYPE_INT32 dims: [ 1 ] } ]
        output [ { name: "OUTPUT" data_type: TYPE_INT32 dims: [ 1 ] } ]
        instance_group [ { count: 2 kind: KIND_CPU } ]
        """;
}
