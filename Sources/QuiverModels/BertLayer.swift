import QuiverCore

/// One transformer block, `BertLayer` in transformers' `modeling_bert.py`:
///
///     q, k, v   = x·Wqᵀ + bq, x·Wkᵀ + bk, x·Wvᵀ + bv            (attention.self.{query,key,value})
///     context   = softmax(q·kᵀ/√d + mask)·v, per head            (BertSelfAttention)
///     x1        = LayerNorm(context·Woᵀ + bo + x)                (attention.output.dense / LayerNorm)
///     inner     = act(x1·Wiᵀ + bi)                               (intermediate.dense, act fused)
///     x2        = LayerNorm(inner·W2ᵀ + b2 + x1)                 (output.dense / LayerNorm)
///
/// Dropout is the identity at inference.
struct BertLayer {
    let query: Linear
    let key: Linear
    let value: Linear
    let attentionOutput: Linear
    let attentionLayerNorm: LayerNorm
    let intermediate: Linear
    let output: Linear
    let outputLayerNorm: LayerNorm
    let heads: Int
    let activation: Activation

    static func load(_ w: Weights, index: Int, _ c: BertConfig) throws -> BertLayer {
        let p = "encoder.layer.\(index)"
        let (h, i) = (c.hiddenSize, c.intermediateSize)
        return BertLayer(
            query: try .load(w, "\(p).attention.self.query", in: h, out: h),
            key: try .load(w, "\(p).attention.self.key", in: h, out: h),
            value: try .load(w, "\(p).attention.self.value", in: h, out: h),
            attentionOutput: try .load(w, "\(p).attention.output.dense", in: h, out: h),
            attentionLayerNorm: try .load(w, "\(p).attention.output.LayerNorm", hidden: h, epsilon: c.layerNormEps),
            intermediate: try .load(w, "\(p).intermediate.dense", in: h, out: i),
            output: try .load(w, "\(p).output.dense", in: i, out: h),
            outputLayerNorm: try .load(w, "\(p).output.LayerNorm", hidden: h, epsilon: c.layerNormEps),
            heads: c.numAttentionHeads, activation: c.hiddenAct)
    }

    /// Scratch tensors shared by all layers of one forward pass. Each is an op's output before it
    /// is read, so none needs a zero fill.
    struct Scratch {
        let q, k, v, context, hidden: DeviceTensor   // [B, S, H]
        let inner: DeviceTensor                       // [B, S, I]

        init(batch: Int, sequence: Int, _ c: BertConfig, on backend: any ComputeBackend) throws {
            let bsh: Shape = [batch, sequence, c.hiddenSize]
            q = try backend.uninitializedBuffer(bsh, .f32)
            k = try backend.uninitializedBuffer(bsh, .f32)
            v = try backend.uninitializedBuffer(bsh, .f32)
            context = try backend.uninitializedBuffer(bsh, .f32)
            hidden = try backend.uninitializedBuffer(bsh, .f32)
            inner = try backend.uninitializedBuffer([batch, sequence, c.intermediateSize], .f32)
        }
    }

    /// Runs the block on `x: [B, S, H]` in place; `mask: [B, S]` i32.
    func forward(_ x: DeviceTensor, mask: DeviceTensor, scratch s: Scratch, on backend: any ComputeBackend) throws {
        try query.forward(x, into: s.q, on: backend)
        try key.forward(x, into: s.k, on: backend)
        try value.forward(x, into: s.v, on: backend)
        try backend.attention(query: s.q, key: s.k, value: s.v, mask: mask, heads: heads, scale: nil, into: s.context)
        try attentionOutput.forward(s.context, into: s.hidden, on: backend)
        try attentionLayerNorm.forward(s.hidden, residual: x, into: s.hidden, on: backend)      // x1
        try intermediate.forward(s.hidden, activation: activation, into: s.inner, on: backend)
        try output.forward(s.inner, into: x, on: backend)
        try outputLayerNorm.forward(x, residual: s.hidden, into: x, on: backend)                 // x2
    }
}
