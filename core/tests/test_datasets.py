"""neuro_core.datasets: the SpikeData container, SHD files, toy tasks and image encoders."""

from __future__ import annotations

import sys
import zipfile

import numpy as np
import pytest
from neuro_core.datasets import (
    SpikeData,
    delayed_xor,
    downscale,
    latency_encode,
    load_digits,
    load_mnist,
    randman,
    rate_encode,
    read_shd,
    spike_pattern_association,
    write_shd,
)
from neuro_core.errors import FileFormatError, NeuroError


def small_set(seed: int = 0, n: int = 6, channels: int = 5) -> SpikeData:
    rng = np.random.default_rng(seed)
    events = []
    for i in range(n):
        count = int(rng.integers(0, 12)) if i != 2 else 0  # sample 2 is empty on purpose
        events.append((rng.integers(0, 40, count) * 1e-3, rng.integers(0, channels, count)))
    return SpikeData.from_events(
        events,
        labels=rng.integers(0, 3, n),
        classes=("a", "b", "c"),
        n_channels=channels,
        speakers=np.arange(n) % 3,
        duration=0.04,
        speaker_names=("s0", "s1", "s2"),
        extra={"word": np.arange(n)},
        meta={"time_resolution": 1e-3},
    )


# ---- SpikeData -------------------------------------------------------------------------------------
def test_dense_counts_every_event_in_its_bin() -> None:
    data = SpikeData.from_events(
        [(np.array([0.0, 0.003, 0.003, 0.0099]), np.array([1, 0, 0, 2]))], [0], ("x",), n_channels=3, duration=0.01
    )
    dense = data.dense(dt=1e-3)
    assert dense.shape == (1, 10, 3) and dense.dtype == np.uint8
    assert dense[0, 0, 1] == 1 and dense[0, 3, 0] == 2 and dense[0, 9, 2] == 1
    assert dense.sum() == 4
    coarse = data.dense(dt=5e-3)
    assert coarse.shape == (1, 2, 3) and coarse[0, 0].tolist() == [2, 1, 0] and coarse[0, 1].tolist() == [0, 0, 1]


def test_dense_drops_events_after_duration_and_clips_at_255() -> None:
    times = np.concatenate([np.zeros(300), [0.5]])
    data = SpikeData.from_events([(times, np.zeros(301, dtype=int))], [0], ("x",), n_channels=1)
    assert data.dense(1e-3, duration=0.01).tolist() == [[[255]] + [[0]] * 9]


def test_from_dense_round_trips() -> None:
    counts = np.random.default_rng(1).integers(0, 3, size=(4, 7, 3)).astype(np.uint8)
    data = SpikeData.from_dense(counts, [0, 1, 0, 1], ("a", "b"), dt=2e-3)
    assert data.duration == pytest.approx(0.014)
    np.testing.assert_array_equal(data.dense(2e-3), counts)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"units": [0, 9]}, "units must lie in 0..4"),
        ({"offsets": [0, 1]}, r"N\+1=3"),
        ({"labels": [0, 7]}, "labels must lie in 0..2"),
        ({"times": [-1.0, 0.0]}, ">= 0 seconds"),
        ({"speakers": [0]}, "speakers has 1 entries"),
    ],
)
def test_invalid_fields_are_named(change: dict, message: str) -> None:
    fields = {"times": [0.0, 0.001], "units": [0, 1], "offsets": [0, 1, 2], "labels": [0, 1], "speakers": [0, 1]}
    fields.update(change)
    with pytest.raises(NeuroError, match=message):
        SpikeData(classes=("a", "b", "c"), n_channels=5, **fields)


def test_split_by_speaker_has_no_overlap_and_keeps_everything() -> None:
    data = small_set(n=30)
    train, test = data.split(test_fraction=0.34, seed=3)
    assert not set(train.speakers) & set(test.speakers)
    assert len(train) + len(test) == len(data)
    assert sorted(np.concatenate([train.extra["word"], test.extra["word"]]).tolist()) == list(range(30))
    again = data.split(test_fraction=0.34, seed=3)[1]
    np.testing.assert_array_equal(again.extra["word"], test.extra["word"])
    explicit_train, explicit_test = data.split(test_speakers=[1])
    assert set(explicit_test.speakers) == {1} and 1 not in set(explicit_train.speakers)


def test_subset_keeps_each_samples_events() -> None:
    data = small_set()
    picked = data.subset([4, 0])
    np.testing.assert_array_equal(picked.dense(1e-3), data.dense(1e-3)[[4, 0]])
    assert picked.extra["word"].tolist() == [4, 0]
    with pytest.raises(NeuroError, match="out of range"):
        data.subset([99])


def test_batches_are_float_tensors_deterministic_for_a_seed() -> None:
    import torch

    data = small_set(n=10)
    first = list(data.batches(4, dt=1e-3, shuffle=True, seed=5))
    second = list(data.batches(4, dt=1e-3, shuffle=True, seed=5))
    assert [x.shape for x, _ in first] == [torch.Size([4, 40, 5]), torch.Size([4, 40, 5]), torch.Size([2, 40, 5])]
    assert first[0][0].dtype == torch.float32 and first[0][1].dtype == torch.int64
    for (x1, y1), (x2, y2) in zip(first, second, strict=True):
        assert torch.equal(x1, x2) and torch.equal(y1, y2)
    labels = torch.cat([y for _, y in first]).sort().values
    assert torch.equal(labels, torch.from_numpy(np.sort(data.labels)))
    assert len(list(data.batches(4, drop_last=True))) == 2
    other = torch.cat([y for _, y in data.batches(10, seed=6)])
    assert not torch.equal(other, torch.cat([y for _, y in first])) or len(set(data.labels)) == 1


def test_save_load_round_trip_and_corruption(tmp_path) -> None:
    data = small_set()
    path = tmp_path / "set.neuro"
    data.save(path)
    loaded = SpikeData.load(path)
    np.testing.assert_array_equal(loaded.dense(1e-3), data.dense(1e-3))
    np.testing.assert_array_equal(loaded.labels, data.labels)
    np.testing.assert_array_equal(loaded.speakers, data.speakers)
    np.testing.assert_array_equal(loaded.extra["word"], data.extra["word"])
    assert loaded.classes == data.classes and loaded.speaker_names == data.speaker_names
    assert loaded.duration == data.duration and loaded.n_channels == data.n_channels
    with zipfile.ZipFile(path) as archive:
        assert archive.getinfo("arrays/units.npy").compress_type == zipfile.ZIP_DEFLATED
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    broken = tmp_path / "broken.neuro"
    broken.write_bytes(bytes(raw))
    with pytest.raises(FileFormatError):
        SpikeData.load(broken)
    with pytest.raises(FileFormatError, match="no such file"):
        SpikeData.load(tmp_path / "missing.neuro")


def test_save_keeps_off_grid_times_exactly(tmp_path) -> None:
    data = SpikeData.from_events([(np.array([0.00012, 0.5]), np.array([0, 1]))], [0], ("x",), 2)
    data.save(tmp_path / "f.neuro")
    np.testing.assert_array_equal(SpikeData.load(tmp_path / "f.neuro").times, data.times)


# ---- SHD HDF5 --------------------------------------------------------------------------------------
def test_shd_round_trip(tmp_path) -> None:
    pytest.importorskip("h5py")
    data = small_set()
    path = tmp_path / "shd.h5"
    write_shd(data, path)
    loaded = read_shd(path)
    assert len(loaded) == len(data) and loaded.n_channels == data.n_channels
    np.testing.assert_array_equal(loaded.labels, data.labels)
    np.testing.assert_array_equal(loaded.speakers, data.speakers)
    assert loaded.classes == data.classes
    np.testing.assert_allclose(loaded.times, data.times, rtol=1e-6)  # float32 in the file
    np.testing.assert_array_equal(loaded.dense(1e-3), data.dense(1e-3))


def test_shd_reads_a_file_in_the_published_layout(tmp_path) -> None:
    h5py = pytest.importorskip("h5py")
    path = tmp_path / "shd_like.h5"
    with h5py.File(path, "w") as handle:  # what shd_train.h5 holds: no n_channels attribute, no keys
        times = handle.create_dataset("spikes/times", (2,), dtype=h5py.vlen_dtype(np.float16))
        units = handle.create_dataset("spikes/units", (2,), dtype=h5py.vlen_dtype(np.uint16))
        times[0], units[0] = np.array([0.01, 0.5], np.float16), np.array([3, 699], np.uint16)
        times[1], units[1] = np.array([0.2], np.float16), np.array([0], np.uint16)
        handle.create_dataset("labels", data=np.array([4, 19], np.uint16))
    data = read_shd(path)
    assert data.n_channels == 700 and data.labels.tolist() == [4, 19] and len(data.classes) == 20
    assert data.sample(0)[1].tolist() == [3, 699]


def test_shd_errors(tmp_path, monkeypatch) -> None:
    pytest.importorskip("h5py")
    with pytest.raises(FileFormatError, match="no such file"):
        read_shd(tmp_path / "none.h5")
    not_hdf5 = tmp_path / "text.h5"
    not_hdf5.write_text("hello")
    with pytest.raises(FileFormatError, match="not a readable HDF5"):
        read_shd(not_hdf5)
    monkeypatch.setitem(sys.modules, "h5py", None)  # as if the hdf5 extra were not installed
    with pytest.raises(NeuroError, match=r"pip install neuro-core\[hdf5\]"):
        read_shd(not_hdf5)


# ---- toy tasks -------------------------------------------------------------------------------------
def test_randman_is_seeded_and_timing_only() -> None:
    a = randman(n_classes=3, n_units=20, samples_per_class=10, n_steps=50, seed=1)
    b = randman(n_classes=3, n_units=20, samples_per_class=10, n_steps=50, seed=1)
    c = randman(n_classes=3, n_units=20, samples_per_class=10, n_steps=50, seed=2)
    np.testing.assert_array_equal(a.dense(1e-3), b.dense(1e-3))
    assert not np.array_equal(a.dense(1e-3), c.dense(1e-3))
    dense = a.dense(1e-3)
    assert dense.shape == (30, 50, 20)
    assert np.all(dense.sum(axis=1) == 1)  # every unit fires exactly once: rates carry no information
    assert np.bincount(a.labels).tolist() == [10, 10, 10]
    # Samples of one class lie on a smooth 1-D manifold: close to each other relative to other classes.
    latency = dense.argmax(axis=1).astype(float)
    same = np.mean([np.abs(latency[i] - latency[j]).mean() for i in range(30) for j in range(30) if i != j
                    and a.labels[i] == a.labels[j]])  # fmt: skip
    other = np.mean([np.abs(latency[i] - latency[j]).mean() for i in range(30) for j in range(30)
                     if a.labels[i] != a.labels[j]])  # fmt: skip
    assert same < 0.8 * other


def test_delayed_xor_labels_and_cues() -> None:
    data = delayed_xor(n_samples=40, channels_per_group=4, noise_rate=0.0, rate=500.0, seed=3)
    assert np.array_equal(data.labels, data.extra["a"] ^ data.extra["b"])
    dense = data.dense(1e-3)
    assert dense.shape == (40, 350, 16)
    for i in range(40):
        a, b = data.extra["a"][i], data.extra["b"][i]
        first = dense[i, :50].reshape(50, 4, 4).sum(axis=(0, 2))
        second = dense[i, 250:300].reshape(50, 4, 4).sum(axis=(0, 2))
        assert first[a] > 0 and first[1 - a] == 0 and first[2:].sum() == 0
        assert second[2 + b] > 0 and second[3 - b] == 0 and second[:2].sum() == 0
        assert dense[i, 50:250].sum() == 0 and dense[i, 300:].sum() == 0
    np.testing.assert_array_equal(dense, delayed_xor(40, 4, noise_rate=0.0, rate=500.0, seed=3).dense(1e-3))


def test_spike_pattern_association_samples_resemble_their_pattern() -> None:
    data = spike_pattern_association(n_patterns=4, samples_per_pattern=6, n_channels=30, jitter=0.0, seed=2)
    dense = data.dense(1e-3).reshape(len(data), -1).astype(float)
    similarity = dense @ dense.T
    for i in range(len(data)):
        same = data.labels == data.labels[i]
        same[i] = False
        assert similarity[i, same].mean() > 2 * similarity[i, data.labels != data.labels[i]].mean()
    with pytest.raises(NeuroError, match="deletion"):
        spike_pattern_association(deletion=1.0)


# ---- images ----------------------------------------------------------------------------------------
def test_rate_encoding_rates_follow_intensity() -> None:
    images = np.zeros((2, 2, 2))
    images[:, 0, 0], images[:, 1, 1] = 1.0, 0.25
    data = rate_encode(images, [0, 1], n_steps=2000, max_rate=200.0, seed=0)
    rates = data.dense(1e-3).sum(axis=1).mean(axis=0) / 2.0  # Hz
    assert rates[0] == pytest.approx(200, rel=0.1) and rates[3] == pytest.approx(50, rel=0.2)
    assert rates[1] == 0 and rates[2] == 0
    np.testing.assert_array_equal(data.dense(1e-3), rate_encode(images, [0, 1], 2000, seed=0).dense(1e-3))
    with pytest.raises(NeuroError, match=r"\[0, 1\]"):
        rate_encode(images * 255, [0, 1])


def test_latency_encoding_brighter_fires_earlier() -> None:
    images = np.array([[[1.0, 0.6, 0.1]]])
    dense = latency_encode(images, [0], n_steps=11, threshold=0.2).dense(1e-3)[0]
    assert dense.sum(axis=0).tolist() == [1, 1, 0]
    assert dense[:, 0].argmax() == 0 and dense[:, 1].argmax() == 5


def test_downscale_and_mnist_from_a_file(tmp_path) -> None:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(12, 28, 28), dtype=np.uint8)
    path = tmp_path / "mnist.npz"
    np.savez(path, images=images, labels=np.arange(12) % 10)
    x_train, y_train, x_test, y_test = load_mnist(path, size=16, test_fraction=0.25, seed=0)
    assert x_train.shape == (9, 16, 16) and x_test.shape == (3, 16, 16) and x_train.dtype == np.float32
    assert sorted(np.concatenate([y_train, y_test]).tolist()) == sorted((np.arange(12) % 10).tolist())
    small = downscale(images / 255.0, 16)
    np.testing.assert_allclose(small.mean(axis=(1, 2)), (images / 255.0).mean(axis=(1, 2)), rtol=1e-12)
    np.testing.assert_allclose(downscale(np.ones((1, 28, 28)), 16), 1.0)
    with pytest.raises(NeuroError, match="does not exist"):
        load_mnist(tmp_path / "nope.npz")
    np.savez(tmp_path / "wrong.npz", x=images)
    with pytest.raises(NeuroError, match="'images' and 'labels'"):
        load_mnist(tmp_path / "wrong.npz")


def test_digits_need_scikit_learn(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(NeuroError, match="pip install scikit-learn"):
        load_digits()


def test_concatenate_keeps_speakers_distinct() -> None:
    a, b = small_set(seed=0, n=4), small_set(seed=1, n=3)
    both = SpikeData.concatenate([a, b])
    assert len(both) == 7 and both.speaker_names == ("s0", "s1", "s2", "s0", "s1", "s2")
    assert both.speakers.tolist() == a.speakers.tolist() + (b.speakers + 3).tolist()
    np.testing.assert_array_equal(both.dense(1e-3), np.concatenate([a.dense(1e-3), b.dense(1e-3)]))
    other = SpikeData.from_events([], [], ("x",), n_channels=5)
    with pytest.raises(NeuroError, match="cannot concatenate"):
        SpikeData.concatenate([a, other])
