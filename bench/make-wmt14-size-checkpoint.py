#!/usr/bin/env python3
"""Random-weight checkpoints the size of HAT's WMT'14 En-De SuperTransformer (~92 M parameters:
embed 640, FFN 3072, 6 + 6 layers, qkv 512, a shared 32k vocabulary), with HAT's tensor names and
checkpoint layout (args Namespace, model OrderedDict, optimizer bookkeeping), for timing and memory
checks of dev.hatspark.torch.TorchCheckpoint on real-size input.

A benchmark input generator, run by hand; never part of the build or CI. Needs torch
(Debian: apt-get install python3-torch). Writes into OUT_DIR:
  wmt14-size-fp32-legacy.pt  (~370 MB, torch.save(..., _use_new_zipfile_serialization=False), HAT's 2020 format)
  wmt14-size-fp16-legacy.pt  (~185 MB, every model tensor .half(), as fp16 training leaves them)
  wmt14-size-fp32-zip.pt     (~370 MB, torch's default zip format)
Usage: python3 bench/make-wmt14-size-checkpoint.py OUT_DIR [--vocab 32768] [--seed 1]
"""
import argparse
import collections
import os
import time

import torch

EMBED, FFN, QKV, LAYERS, HEADS = 640, 3072, 512, 6, 8


def hat_args(vocab):
    """The SuperTransformer options of HAT's configs/wmt14.en-de/supertransformer/space0.yml."""
    return argparse.Namespace(
        arch="transformersuper_wmt_en_de", share_all_embeddings=True, fp16=True,
        encoder_embed_dim=EMBED, decoder_embed_dim=EMBED, encoder_ffn_embed_dim=FFN, decoder_ffn_embed_dim=FFN,
        encoder_layers=LAYERS, decoder_layers=LAYERS, encoder_attention_heads=HEADS, decoder_attention_heads=HEADS,
        qkv_dim=QKV, encoder_normalize_before=False, decoder_normalize_before=False,
        encoder_embed_choice=[640, 512], decoder_embed_choice=[640, 512],
        encoder_ffn_embed_dim_choice=[3072, 2048, 1024], decoder_ffn_embed_dim_choice=[3072, 2048, 1024],
        encoder_layer_num_choice=[6], decoder_layer_num_choice=[6, 5, 4, 3, 2, 1],
        encoder_self_attention_heads_choice=[8, 4], decoder_self_attention_heads_choice=[8, 4],
        decoder_ende_attention_heads_choice=[8, 4], decoder_arbitrary_ende_attn_choice=[-1, 1, 2],
        vocab_size=vocab)


def state_dict(vocab, generator):
    def normal(*shape, std=0.02):
        return torch.empty(*shape).normal_(0.0, std, generator=generator)

    sd = collections.OrderedDict()

    def attention(prefix):
        sd[prefix + ".in_proj_weight"] = normal(3 * QKV, EMBED)
        sd[prefix + ".in_proj_bias"] = normal(3 * QKV)
        sd[prefix + ".out_proj.weight"] = normal(EMBED, QKV)
        sd[prefix + ".out_proj.bias"] = normal(EMBED)

    def layer_norm(prefix):
        sd[prefix + ".weight"] = 1.0 + normal(EMBED, std=0.1)
        sd[prefix + ".bias"] = normal(EMBED)

    def ffn(prefix):
        sd[prefix + ".fc1.weight"] = normal(FFN, EMBED)
        sd[prefix + ".fc1.bias"] = normal(FFN)
        sd[prefix + ".fc2.weight"] = normal(EMBED, FFN)
        sd[prefix + ".fc2.bias"] = normal(EMBED)

    embed = normal(vocab, EMBED, std=EMBED ** -0.5)
    for side in ("encoder", "decoder"):
        sd[side + ".version"] = torch.tensor([3.0])
        sd[side + ".embed_tokens.weight"] = embed  # share_all_embeddings: one storage for both
        sd[side + ".embed_positions._float_tensor"] = torch.zeros(1)
        for i in range(LAYERS):
            p = "%s.layers.%d" % (side, i)
            attention(p + ".self_attn")
            layer_norm(p + ".self_attn_layer_norm")
            if side == "decoder":
                attention(p + ".encoder_attn")
                layer_norm(p + ".encoder_attn_layer_norm")
            ffn(p)
            layer_norm(p + ".final_layer_norm")
    return sd


def half(sd):
    """.half() per distinct storage, so the shared embedding stays one storage."""
    converted = {}
    return collections.OrderedDict(
        (k, converted.setdefault(id(v), v.half())) for k, v in sd.items())


def checkpoint(args, model):
    """The dict fairseq's checkpoint_utils.save_state builds."""
    return {
        "args": args,
        "model": model,
        "optimizer_history": [{"criterion_name": "LabelSmoothedCrossEntropyCriterion",
                               "optimizer_name": "FairseqAdam", "lr_scheduler_state": {"best": None},
                               "num_updates": 0}],
        "extra_state": {},
        "last_optimizer_state": {"state": {}, "param_groups": []},
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out_dir")
    parser.add_argument("--vocab", type=int, default=32768)
    parser.add_argument("--seed", type=int, default=1)
    options = parser.parse_args()
    os.makedirs(options.out_dir, exist_ok=True)

    model = state_dict(options.vocab, torch.Generator().manual_seed(options.seed))
    distinct = {id(v): v.numel() for v in model.values()}
    print("%d tensors, %.1f M parameters" % (len(model), sum(distinct.values()) / 1e6))
    args = hat_args(options.vocab)
    for name, weights, zipped in (("wmt14-size-fp32-legacy.pt", model, False),
                                  ("wmt14-size-fp16-legacy.pt", half(model), False),
                                  ("wmt14-size-fp32-zip.pt", model, True)):
        path = os.path.join(options.out_dir, name)
        start = time.time()
        torch.save(checkpoint(args, weights), path, _use_new_zipfile_serialization=zipped)
        print("%s: %.0f MB in %.1f s" % (path, os.path.getsize(path) / 1e6, time.time() - start))


if __name__ == "__main__":
    main()
