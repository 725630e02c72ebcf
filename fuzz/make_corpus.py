#!/usr/bin/python3
"""Writes the seed corpora of the fuzz harnesses into fuzz/corpus/<reader>/ (docs/reliability.md).

Seeds are the fixtures the tests use (the raw-string Verilog, BLIF and JSON in tests/), plus small
files of every format made here: exact product tables as .npy/.tbl/raw, a Liberty library, a
library index, est.json, assign.json, operand histograms, the metadata record of the zoo's LeNet-5
checkpoint, and tiny JPEG/PNG images. The output is committed, so the tests need no Python:
    /usr/bin/python3 fuzz/make_corpus.py [SECTION...]     e.g. onnx (default: all)
ONNX seeds are the small models of tests/fixtures/onnx plus tiny models made here with the onnx
package, covering every tensor storage, Constant form and attribute kind the reader handles.
"""
import io
import json
import re
import struct
import sys
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "fuzz" / "corpus"


def write(reader, name, data):
    folder = CORPUS / reader
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data if isinstance(data, bytes) else data.encode())


def raw_strings(test_file, must_contain):
    """The C++ raw string literals R"( ... )" of a test file that contain `must_contain`."""
    text = (ROOT / "tests" / test_file).read_text()
    return [s for s in re.findall(r'R"\((.*?)\)"', text, re.S) if must_contain in s]


def exact_table(bw, ba, signed_w, signed_a):
    w = np.arange(1 << bw)
    a = np.arange(1 << ba)
    if signed_w:
        w = np.where(w >= 1 << (bw - 1), w - (1 << bw), w)
    if signed_a:
        a = np.where(a >= 1 << (ba - 1), a - (1 << ba), a)
    return np.outer(w, a).astype(np.int32)


def tbl_bytes(table, bw, ba, signed_w, signed_a):
    header = b"FAMESTBL" + struct.pack("<IBBBBII", 1, bw, ba, signed_w, signed_a, table.size, 0)
    return header + table.astype("<i4").tobytes()


def npy_bytes(array):
    out = io.BytesIO()
    np.save(out, array)
    return out.getvalue()


def tables():
    for bw, ba, sw, sa in [(2, 2, False, False), (3, 2, True, False), (4, 4, True, True)]:
        t = exact_table(bw, ba, sw, sa)
        key = f"w{bw}{'s' if sw else 'u'}_a{ba}{'s' if sa else 'u'}"
        write("table", f"{key}.tbl", tbl_bytes(t, bw, ba, sw, sa))
        write("table", f"{key}.npy", npy_bytes(t))
    write("table", "w2u_a2u_u2_fortran.npy", npy_bytes(np.asfortranarray(exact_table(2, 2, 0, 0).astype("<u2"))))
    write("table", "w2u_a2u_f8.npy", npy_bytes(exact_table(2, 2, 0, 0).astype("<f8")))
    # Raw 16-bit: the first bytes double as widths for the harness (see readers.h).
    write("table", "raw_2x2.bin", exact_table(2, 2, 0, 0).astype("<u2").tobytes())


def liberty():
    cells = ""
    for name, inputs in [("INV_X1", 1), ("BUF_X2", 1), ("NAND2_X1", 2), ("NOR2_X1", 2),
                         ("AND2_X1", 2), ("OR2_X1", 2), ("XOR2_X1", 2), ("XNOR2_X1", 2)]:
        pins = "".join(f"    pin (A{i + 1}) {{ direction : input; capacitance : 0.00{i + 2}; }}\n"
                       for i in range(inputs))
        cells += (f"  cell ({name}) {{\n    area : 1.5;\n    cell_leakage_power : 2000;\n{pins}"
                  "    pin (ZN) { direction : output; function : \"x\";\n"
                  "      internal_power () { related_pin : \"A1\";\n"
                  "        rise_power (tbl) { index_1 (\"0.1, 0.2\"); values (\"1.0, 2.0\", \\\n"
                  " \"3.0, 4.0\"); }\n"
                  "        fall_power (tbl) { values (\"5.0, 6.0\", \"7.0, 8.0\"); } } }\n  }\n")
    write("liberty", "small.lib",
          "/* seed */\nlibrary (seed) {\n  nom_voltage : 0.9;\n  capacitive_load_unit (1, pf);\n"
          "  leakage_power_unit : \"1pW\";\n" + cells + "}\n")


def appmul_entry(name, bw, ba, sw, sa, exact):
    return {"name": name, "bw": bw, "ba": ba, "signed_w": sw, "signed_a": sa, "exact": exact,
            "er": 0.0 if exact else 0.25, "med": 0.0 if exact else 1.5, "nmed": 0.0, "mred": 0.0,
            "wce": 0.0 if exact else 4.0, "mse": 0.0, "bias": 0.0 if exact else -0.5,
            "area_um2": 12.5, "energy_fj": 3.25, "depth": 5, "source": "exact:array",
            "table": name + ".tbl", "netlist": name + ".blif" if exact else None}


def json_files():
    index = {"format": "fames-appmul-library", "version": 1,
             "appmuls": [appmul_entry("exact_w2u_a2u", 2, 2, False, False, True),
                         appmul_entry("trunc_w4s_a4u", 4, 4, True, False, False)]}
    write("library_index", "index.json", json.dumps(index, indent=1))
    est = {"version": 1, "model": "m.pt", "library": "lib", "samples": 64, "hessian": "gn",
           "bias_correction": True, "first_order": False,
           "layers": [{"name": "conv1", "signature": "w4s_a4u", "macs": 1000, "exact": "exact4",
                       "candidates": [{"appmul": "exact4", "dl": 0.0, "energy_fj": 10.0},
                                      {"appmul": "trunc4", "dl": 0.01, "energy_fj": 6.5}]}],
           "appmuls": {"exact4": {"signature": "w4s_a4u", "energy_fj": 10.0, "mred": 0.0},
                       "trunc4": {"signature": "w4s_a4u", "energy_fj": 6.5, "mred": 0.02}}}
    write("estimate", "est.json", json.dumps(est, indent=2))
    assign = {"library": "lib", "layers": {"conv1": "trunc4"}, "energy_reduction": 0.35,
              "predicted_dl": 0.01, "energy_fj_per_image": 6500.0,
              "exact_energy_fj_per_image": 10000.0,
              "per_layer": {"conv1": {"appmul": "trunc4", "dl": 0.01, "energy_fj_per_image": 6500.0}},
              "solver": "cbc", "seconds": 0.01}
    write("assignment", "assign.json", json.dumps(assign, indent=2))
    write("assignment", "plain.json", json.dumps({"library": "lib", "layers": {"fc": "exact8"}}))
    hist = {"format": "fames-operand-histogram", "version": 1, "source": {"model": "m.pt"},
            "signatures": {"w1s_a1u": {"counts": [[1, 2], [3, 4]]},
                           "w2s_a2u": {"weight_counts": [1, 2, 3, 4], "activation_counts": [4, 3, 2, 1]}}}
    write("operand_histogram", "hist.json", json.dumps(hist))
    for i, text in enumerate(raw_strings("appmul/als_histogram_test.cpp", "fames-operand-histogram")):
        write("operand_histogram", f"test_{i}.json", text)


def checkpoint_meta():
    """The metadata record of the zoo's LeNet-5 (a JSON string inside the archive's data.pkl)."""
    with zipfile.ZipFile(ROOT / "models" / "lenet5-fmnist-mp.pt") as z:
        pickle = z.read(next(n for n in z.namelist() if n.endswith("data.pkl")))
    start = pickle.index(b'{"')
    depth = 0
    for end in range(start, len(pickle)):
        depth += {ord("{"): 1, ord("}"): -1}.get(pickle[end], 0)
        if depth == 0:
            break
    meta = json.loads(pickle[start:end + 1])
    write("checkpoint_meta", "lenet5.json", json.dumps(meta))
    meta["classes"] = [f"class{i}" for i in range(meta["num_classes"])]
    write("checkpoint_meta", "with_classes.json", json.dumps(meta))
    meta["asymmetric_weights"] = ["conv1", "fc3"]
    write("checkpoint_meta", "asymmetric.json", json.dumps(meta))


def images():
    rng = np.random.default_rng(1)
    rgb = Image.fromarray(rng.integers(0, 256, (8, 6, 3), dtype=np.uint8), "RGB")
    for name, image in [("rgb", rgb), ("gray", rgb.convert("L")), ("rgba", rgb.convert("RGBA"))]:
        out = io.BytesIO()
        image.save(out, "PNG")
        write("image", f"{name}.png", out.getvalue())
        if name != "rgba":
            out = io.BytesIO()
            image.save(out, "JPEG", quality=90)
            write("image", f"{name}.jpg", out.getvalue())


def netlists():
    for i, text in enumerate(raw_strings("appmul/verilog_test.cpp", "module")):
        write("verilog", f"test_{i}.v", text)
    for i, text in enumerate(raw_strings("appmul/blif_test.cpp", ".model")):
        write("blif", f"test_{i}.blif", text)


def onnx_models():
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    for name in ["error_dynamic_weight.onnx", "error_unsupported_op.onnx", "fmnist_cnn.onnx"]:
        write("onnx", name, (ROOT / "tests" / "fixtures" / "onnx" / name).read_bytes())
    rng = np.random.default_rng(1)
    weight = numpy_helper.from_array(rng.standard_normal((2, 1, 3, 3)).astype(np.float32), "w")
    fc = helper.make_tensor("fc", TensorProto.FLOAT, [3, 8], rng.standard_normal(24).tolist())
    shape = helper.make_tensor("shape", TensorProto.INT64, [2], [1, -1])
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["c"], name="conv", pads=[1, 1, 1, 1], strides=[1, 1]),
        helper.make_node("Relu", ["c"], ["r"]),
        helper.make_node("MaxPool", ["r"], ["p"], kernel_shape=[2, 2], strides=[2, 2], auto_pad="NOTSET"),
        helper.make_node("Reshape", ["p", "shape"], ["f"]),
        helper.make_node("Gemm", ["f", "fc"], ["y"], transB=1, alpha=1.0),
    ]
    graph = helper.make_graph(nodes, "cnn", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 4, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3])], [weight, fc, shape])
    write("onnx", "tiny_cnn.onnx", helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)],
                                                     producer_name="fames").SerializeToString())
    # Every element type in its typed field, and Constant nodes of every form.
    typed = [helper.make_tensor(f"t{code}", code, [2], values) for code, values in [
        (TensorProto.DOUBLE, [0.5, -2.0]), (TensorProto.INT32, [7, -7]), (TensorProto.INT16, [300, -3]),
        (TensorProto.INT8, [5, -5]), (TensorProto.UINT8, [0, 255]), (TensorProto.BOOL, [0, 1])]]
    constants = [helper.make_node("Constant", [], [f"k{i}"], **{key: value}) for i, (key, value) in enumerate([
        ("value", helper.make_tensor("v", TensorProto.FLOAT, [2, 2], [1, 2, 3, 4])),
        ("value_float", 1.5), ("value_floats", [1.0, 2.0]), ("value_int", 3), ("value_ints", [1, 2, 3])])]
    nodes = constants + [helper.make_node("Concat", ["k2", "k2"], ["y"], axis=0, name="cat", mode="a",
                                          names=["a", "b"], scales=[0.5, 2.0])]
    graph = helper.make_graph(nodes, "consts", [], [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4])],
                              typed)
    write("onnx", "constants.onnx", helper.make_model(graph, opset_imports=[helper.make_opsetid("", 11)])
          .SerializeToString())
    write("onnx", "tensor.pb", numpy_helper.from_array(np.arange(6, dtype=np.int64).reshape(2, 3), "t")
          .SerializeToString())
    onnx.checker.check_model(onnx.load_from_string((CORPUS / "onnx" / "tiny_cnn.onnx").read_bytes()))


SECTIONS = {"netlists": netlists, "tables": tables, "liberty": liberty, "json_files": json_files,
            "checkpoint_meta": checkpoint_meta, "images": images, "onnx": onnx_models}

if __name__ == "__main__":
    for section in sys.argv[1:] or SECTIONS:
        SECTIONS[section]()
    for folder in sorted(CORPUS.iterdir()):
        print(folder.name, len(list(folder.iterdir())))
