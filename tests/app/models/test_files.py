from app.models.files import is_projector_name, shard_names, split_part


def test_any_part_of_a_split_model_names_every_part_in_order() -> None:
    assert shard_names("sub/m-Q4_K_M-00002-of-00003.gguf") == [
        "sub/m-Q4_K_M-00001-of-00003.gguf",
        "sub/m-Q4_K_M-00002-of-00003.gguf",
        "sub/m-Q4_K_M-00003-of-00003.gguf",
    ]
    assert split_part("M-00001-OF-00002.GGUF") == ("M", 1, 2)


def test_a_whole_file_is_its_own_only_part() -> None:
    assert shard_names("model.Q8_0.gguf") == ["model.Q8_0.gguf"]
    assert split_part("model-1-of-2.gguf") is None


def test_projectors_are_told_by_their_file_name_not_their_folder() -> None:
    assert is_projector_name("repo/mmproj-model-f16.gguf")
    assert not is_projector_name("mmproj-models/model.gguf")
