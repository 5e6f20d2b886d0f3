"""PHOTO_STORE and friends: which store the settings open, and what they refuse at start."""

from __future__ import annotations

from pathlib import Path

import pytest

from backend.settings import load_settings
from backend.storage import LocalPhotoStore, open_store
from backend.storage.s3 import S3PhotoStore


class TestOpenStore:
    def test_unset_is_the_folder_under_the_data_dir(self, tmp_path: Path) -> None:
        store = open_store(load_settings({"DATA_DIR": str(tmp_path)}))
        assert isinstance(store, LocalPhotoStore) and store.root == tmp_path / "photos"

    def test_a_file_url_names_another_folder(self, tmp_path: Path) -> None:
        store = open_store(load_settings({"DATA_DIR": str(tmp_path), "PHOTO_STORE": f"file://{tmp_path}/elsewhere"}))
        assert isinstance(store, LocalPhotoStore) and store.root == tmp_path / "elsewhere"

    @pytest.mark.parametrize(
        ("url", "bucket", "prefix"),
        [("s3://photos", "photos", ""), ("s3://photos/prod/", "photos", "prod/"), ("s3://b/a/b", "b", "a/b/")],
    )
    def test_an_s3_url_names_the_bucket_and_prefix(self, tmp_path: Path, url: str, bucket: str, prefix: str) -> None:
        settings = load_settings(
            {
                "DATA_DIR": str(tmp_path),
                "PHOTO_STORE": url,
                "S3_ENDPOINT_URL": "http://127.0.0.1:8333",
                "AWS_ACCESS_KEY_ID": "key",
                "AWS_SECRET_ACCESS_KEY": "the-s3-secret-key",
            }
        )
        store = open_store(settings)
        assert isinstance(store, S3PhotoStore) and (store.bucket, store.prefix) == (bucket, prefix)
        assert settings.photo_dir == tmp_path / "photos"  # where its uploads are staged
        assert "the-s3-secret-key" not in repr(settings)

    @pytest.mark.parametrize("url", ["s3:///no-bucket", "gs://bucket", "file://host/folder", "/srv/photos"])
    def test_anything_else_is_refused_at_start(self, url: str) -> None:
        with pytest.raises(ValueError, match="PHOTO_STORE"):
            load_settings({"PHOTO_STORE": url})
